/**
 * `bench:nab --protocol loco`: the leave-one-category-out selection of the NAB config (docs/evaluation.md,
 * "NAB protocol"). Model variants × score post-processing × fixed thresholds, plus pairs of models whose
 * p-values are combined per point (nab-combine.ts); model streams cached.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../../src/config/index.js';
import {
  type ConditionalOptions,
  DEFAULT_CONDITIONAL_OPTIONS,
} from '../../src/detector/timeseries/conditional.js';
import type { SurpriseScoreOptions } from '../../src/detector/timeseries/surprise-score.js';
import { InvalidOptionError } from '../../src/errors.js';
import { nabCategory } from '../../src/evaluate/nab-corpus.js';
import {
  type CandidateSummary,
  chooseFinal,
  type LocoCandidate,
  type LocoFoldResult,
  locoFolds,
  runLoco,
  summariseCandidate,
  thresholdGap,
  worstCase,
} from '../../src/evaluate/nab-loco.js';
import { NAB_PROFILES, type NabSeries } from '../../src/evaluate/nab-score.js';
import {
  COMBINE_PAIRS,
  combinedCandidates,
  detectorEvidence,
  type Evidence,
  evidenceModel,
} from './nab-combine.js';
import {
  type CorpusStreams,
  corpusStreams,
  detectorScores,
  jointCorpusStreams,
  postProcess,
} from './nab-streams.js';
import { markdownTable } from './stats.js';

/** A model variant: conditional-model options over the defaults, or 'joint' (the flow of `jointConfig`). */
export type ModelVariant = readonly [string, Partial<ConditionalOptions> | 'joint'];

/** Model variants: the few knobs left, each against the defaults. */
export const MODEL_GRID: readonly ModelVariant[] = [
  ['joint', 'joint'],
  ['base', {}],
  ['tod', { timeOfDay: true }],
  ['k1', { components: 1 }],
  ['lags2', { lags: 2 }],
  ['lags8', { lags: 8 }],
  ['slow0.01', { slowAlpha: 0.01 }],
  ['mem500', { memory: 500 }],
  ['h12', { hidden: 12 }],
  ['daily', { daily: true }],
  ['scales', { scales: [10, 100] }],
  ['seasonal', { daily: true, seasonalTarget: true }],
  ['dailymix', { daily: true, seasonal: 1 }],
];

/**
 * Variants run only when `--models` names them (added after the recorded default grid, and lost:
 * docs/evaluation.md "NAB protocol", the nab3 round), so the default command keeps its candidates.
 */
export const OPT_IN_MODELS: ReadonlySet<string> = new Set(['seasonal', 'dailymix']);

/** A post-processing candidate: of the surprise, or (joint only) of the flow detector's own p-value. */
export interface PostCandidate {
  readonly name: string;
  readonly options: SurpriseScoreOptions | { readonly score: 'detector'; readonly rangeTolerance: number };
  readonly thresholds: readonly number[];
}

/** Post-processing candidates with their fixed thresholds. */
export const POST_GRID: readonly PostCandidate[] = [
  ...[-1, 0.02].map((tol) => ({
    name: `detector${tol < 0 ? '' : `+range${tol}`}`,
    options: { score: 'detector', rangeTolerance: tol } as const,
    thresholds: [0.998, 0.999, 0.9995],
  })),
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

/**
 * Opt-in post-processing families (`--post=tail,learnall,record,recordmargin`), each the p-value with
 * one detail changed, range breakout off, 0 or 0.02: `tail`, an exponential tail beyond the largest
 * recent surprise; `learnall`, flagged surprises learned without the tail budget (both lost); `record`,
 * a record in a short history scored as a record among a full window, `recordmargin` the same for a
 * record clearing the largest recent surprise by the history's interquartile range (docs/evaluation.md,
 * fifth round).
 */
export const EXTRA_POST: Readonly<Record<string, readonly PostCandidate[]>> = {
  tail: pvalueFamily('pvalue+tail', { tail: 'exponential' }),
  learnall: pvalueFamily('pvalue+learnall', { flaggedBudget: false }),
  record: pvalueFamily('pvalue+record', { record: 'full' }),
  recordmargin: pvalueFamily('pvalue+recordmargin', { record: 'margin' }),
};

function pvalueFamily(name: string, extra: Partial<SurpriseScoreOptions>): PostCandidate[] {
  return [-1, 0, 0.02].map((tol) => ({
    name: `${name}${tol < 0 ? '' : `+range${tol}`}`,
    options: { score: 'pvalue', window: 2000, minHistory: 100, average: 1, rangeTolerance: tol, ...extra },
    thresholds: [0.998, 0.999, 0.9995, 0.9998, 0.9999],
  }));
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');

/** Streams of one model variant (the joint flow or a conditional model), cached; logs its speed. */
async function modelStreams(
  corpus: readonly NabSeries[],
  variant: ModelVariant,
  jointConfig: AppConfig | undefined,
  cacheDir: string,
): Promise<CorpusStreams> {
  const [modelName, overrides] = variant;
  let streams: CorpusStreams;
  if (overrides === 'joint') {
    if (jointConfig === undefined) throw new InvalidOptionError('the joint variant needs a config');
    streams = await jointCorpusStreams(corpus, jointConfig, cacheDir);
  } else {
    streams = await corpusStreams(corpus, { ...DEFAULT_CONDITIONAL_OPTIONS, ...overrides }, cacheDir);
  }
  const points = corpus.reduce((s, c) => s + c.values.length, 0);
  const speed = streams.cached ? 'cached' : `${(points / streams.cpuSeconds).toFixed(0)} points/CPU-s`;
  process.stderr.write(`  model ${modelName}: ${speed}\n`);
  return streams;
}

/** Summaries of every post-processing and threshold of one model's streams. */
function singleCandidates(
  corpus: readonly NabSeries[],
  modelName: string,
  streams: CorpusStreams,
  dedupe: number,
  posts: readonly PostCandidate[],
): CandidateSummary[] {
  const out: CandidateSummary[] = [];
  for (const post of posts) {
    const o = post.options;
    if (o.score === 'detector' && streams.pvalue === undefined) continue;
    const scores = corpus.map((s, i) =>
      o.score === 'detector'
        ? detectorScores(s, streams.pvalue![i]!, o.rangeTolerance, dedupe)
        : postProcess(s, streams.surprise[i]!, o, dedupe),
    );
    let first: CandidateSummary | undefined;
    for (const threshold of post.thresholds) {
      const candidate: LocoCandidate = {
        name: `${modelName} ${post.name} @${threshold}`,
        scores,
        detections: scores.map((a) => a.map((v) => v > 0 && v >= threshold)),
      };
      const summary = summariseCandidate(corpus, candidate, NAB_PROFILES.standard, first);
      first ??= summary;
      out.push(summary);
    }
  }
  return out;
}

/**
 * Runs the protocol on `corpus` (standard profile) and prints the tables; returns the final choice.
 * `models`: the single-model variants; `pairs`: the combined ones (their models' streams are computed
 * or read from the cache whether or not they are in `models`).
 */
export async function runLocoProtocol(
  corpus: readonly NabSeries[],
  dedupe: number,
  models: readonly ModelVariant[] = MODEL_GRID,
  jointConfig?: AppConfig,
  cacheDir = join(tmpdir(), 'flowsentinel-nab-cache'),
  pairs: readonly (readonly [string, string])[] = COMBINE_PAIRS,
  extraPost: readonly string[] = [],
): Promise<{ summaries: CandidateSummary[]; final: CandidateSummary }> {
  const posts = [...POST_GRID];
  for (const name of extraPost) {
    const family = EXTRA_POST[name];
    if (family === undefined) {
      throw new InvalidOptionError(`--post must name ${Object.keys(EXTRA_POST).join(', ')}; got "${name}"`);
    }
    posts.push(...family);
  }
  const summaries: CandidateSummary[] = [];
  const evidence = new Map<string, Evidence>();
  const needed = new Set([...models.map(([name]) => name), ...pairs.flat().map(evidenceModel)]);
  for (const variant of MODEL_GRID.filter(([name]) => needed.has(name))) {
    const streams = await modelStreams(corpus, variant, jointConfig, cacheDir);
    evidence.set(variant[0], { kind: 'surprise', streams: streams.surprise });
    if (streams.pvalue !== undefined) evidence.set('jointdet', detectorEvidence(streams.pvalue));
    if (models.includes(variant))
      summaries.push(...singleCandidates(corpus, variant[0], streams, dedupe, posts));
  }
  for (const pair of pairs) {
    summaries.push(...combinedCandidates(corpus, pair, evidence, NAB_PROFILES.standard, dedupe));
  }
  printTables(corpus, summaries);
  return { summaries, final: chooseFinal(summaries, MAX_THRESHOLD_GAP) };
}

/** Issue 16 item 4: the fixed threshold may lose at most this much against each category's optimum. */
export const MAX_THRESHOLD_GAP = 2;

function printFolds(title: string, folds: readonly LocoFoldResult[]): void {
  console.log(`\n${title}\n`);
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
}

function printTables(corpus: readonly NabSeries[], summaries: readonly CandidateSummary[]): void {
  const categories = [...new Set(corpus.map((s) => nabCategory(s.name)))].sort();
  const folds = locoFolds(categories);
  printFolds(
    `Leave-one-category-out, standard profile, ${summaries.length} candidates; chosen on the other three among those whose fixed threshold loses <= ${MAX_THRESHOLD_GAP} against each category's optimum:`,
    runLoco(summaries, folds, MAX_THRESHOLD_GAP),
  );
  printFolds('The same without the threshold-gap rule (reference):', runLoco(summaries, folds));
  const final = chooseFinal(summaries, MAX_THRESHOLD_GAP);
  const top = [...summaries].sort((a, b) => worstCase(b, categories) - worstCase(a, categories)).slice(0, 12);
  console.log(
    `\nBest candidates by worst category (fixed threshold); final (gap <= ${MAX_THRESHOLD_GAP}) = ${final.name}; without the gap rule ${chooseFinal(summaries).name}:\n`,
  );
  const rows = [final, ...top.filter((s) => s !== final)];
  console.log(
    markdownTable(
      ['candidate', ...categories.map((c) => `${c} fixed/opt`), 'gap', 'all fixed', 'all optimised'],
      rows.map((s) => [
        s.name,
        ...categories.map(
          (c) =>
            `${f1(s.categories[c]!.fixed)} / ${f1(s.categories[c]!.optimised)} (${s.categories[c]!.fp} FP)`,
        ),
        f1(thresholdGap(s, categories)),
        f1(s.total.fixed),
        f1(s.total.optimised),
      ]),
    ),
  );
}
