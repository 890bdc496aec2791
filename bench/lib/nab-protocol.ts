/**
 * `bench:nab --protocol loco`: the leave-one-category-out selection of the NAB config (docs/evaluation.md,
 * "NAB protocol"). Model variants × score post-processing × fixed thresholds; model streams cached.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ConditionalOptions,
  DEFAULT_CONDITIONAL_OPTIONS,
} from '../../src/detector/timeseries/conditional.js';
import type { SurpriseScoreOptions } from '../../src/detector/timeseries/surprise-score.js';
import { nabCategory } from '../../src/evaluate/nab-corpus.js';
import {
  type CandidateSummary,
  chooseFinal,
  type LocoCandidate,
  locoFolds,
  runLoco,
  summariseCandidate,
  worstCase,
} from '../../src/evaluate/nab-loco.js';
import { NAB_PROFILES, type NabSeries } from '../../src/evaluate/nab-score.js';
import { corpusStreams, postProcess } from './nab-streams.js';
import { markdownTable } from './stats.js';

/** Model variants: the few knobs left, each against the defaults. */
export const MODEL_GRID: readonly (readonly [string, Partial<ConditionalOptions>])[] = [
  ['base', {}],
  ['k1', { components: 1 }],
  ['noTod', { timeOfDay: false }],
];

/** Post-processing candidates with their fixed thresholds. */
export const POST_GRID: readonly {
  readonly name: string;
  readonly options: SurpriseScoreOptions;
  readonly thresholds: readonly number[];
}[] = [
  ...[1, 5].flatMap((average) =>
    [-1, 0, 0.02].map((tol) => ({
      name: `pvalue${average > 1 ? `/avg${average}` : ''}${tol < 0 ? '' : `+range${tol}`}`,
      options: { score: 'pvalue', window: 2000, minHistory: 100, average, rangeTolerance: tol } as const,
      thresholds: [0.998, 0.999, 0.9995, 0.9998, 0.9999],
    })),
  ),
  ...[-1, 0.02].map((tol) => ({
    name: `likelihood${tol < 0 ? '' : `+range${tol}`}`,
    options: { score: 'likelihood', window: 2000, minHistory: 100, average: 1, rangeTolerance: tol } as const,
    thresholds: [0.3, 0.4, 0.5, 0.6],
  })),
];

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');

/** Runs the protocol on `corpus` (standard profile) and prints the tables; returns the final choice. */
export async function runLocoProtocol(
  corpus: readonly NabSeries[],
  dedupe: number,
  models: readonly (readonly [string, Partial<ConditionalOptions>])[] = MODEL_GRID,
): Promise<{ summaries: CandidateSummary[]; final: CandidateSummary }> {
  const profile = NAB_PROFILES.standard;
  const cacheDir = join(tmpdir(), 'flowsentinel-nab-cache');
  const points = corpus.reduce((s, c) => s + c.values.length, 0);
  const summaries: CandidateSummary[] = [];
  for (const [modelName, overrides] of models) {
    const options = { ...DEFAULT_CONDITIONAL_OPTIONS, ...overrides };
    const streams = await corpusStreams(corpus, options, cacheDir);
    const speed = streams.cached ? 'cached' : `${(points / streams.cpuSeconds).toFixed(0)} points/CPU-s`;
    process.stderr.write(`  model ${modelName}: ${speed}\n`);
    for (const post of POST_GRID) {
      const scores = corpus.map((s, i) => postProcess(s, streams.surprise[i]!, post.options, dedupe));
      let first: CandidateSummary | undefined;
      for (const threshold of post.thresholds) {
        const candidate: LocoCandidate = {
          name: `${modelName} ${post.name} @${threshold}`,
          scores,
          detections: scores.map((a) => a.map((v) => v > 0 && v >= threshold)),
        };
        const summary = summariseCandidate(corpus, candidate, profile, first);
        first ??= summary;
        summaries.push(summary);
      }
    }
  }
  printTables(corpus, summaries);
  return { summaries, final: chooseFinal(summaries) };
}

function printTables(corpus: readonly NabSeries[], summaries: readonly CandidateSummary[]): void {
  const categories = [...new Set(corpus.map((s) => nabCategory(s.name)))].sort();
  const folds = runLoco(summaries, locoFolds(categories));
  console.log(`\nLeave-one-category-out, standard profile, ${summaries.length} candidates:\n`);
  console.log(
    markdownTable(
      [
        'held out',
        'chosen on the other three',
        'worst train',
        'held-out fixed',
        'held-out optimised',
        'gap',
        'FP',
      ],
      folds.map((f) => [
        f.heldOut,
        f.chosen,
        f1(f.trainScore),
        f1(f.heldOutScore.fixed),
        f1(f.heldOutScore.optimised),
        f1(f.heldOutScore.optimised - f.heldOutScore.fixed),
        String(f.heldOutScore.fp),
      ]),
    ),
  );
  const scored = folds.map((f) => f.heldOutScore.fixed).filter(Number.isFinite);
  console.log(
    `\nmean of left-out scores (categories with windows): ${f1(scored.reduce((s, v) => s + v, 0) / scored.length)}; worst ${f1(Math.min(...scored))}`,
  );
  const final = chooseFinal(summaries);
  const top = [...summaries].sort((a, b) => worstCase(b, categories) - worstCase(a, categories)).slice(0, 12);
  console.log(`\nBest candidates by worst category (fixed threshold); final = ${final.name}:\n`);
  console.log(
    markdownTable(
      ['candidate', ...categories.map((c) => `${c} fixed/opt`), 'all fixed', 'all optimised'],
      top.map((s) => [
        s.name,
        ...categories.map(
          (c) =>
            `${f1(s.categories[c]!.fixed)} / ${f1(s.categories[c]!.optimised)} (${s.categories[c]!.fp} FP)`,
        ),
        f1(s.total.fixed),
        f1(s.total.optimised),
      ]),
    ),
  );
}
