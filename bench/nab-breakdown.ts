/**
 * Where NAB points are lost, per category and per series, for conditional-model candidates of the NAB
 * protocol (bench/lib/nab-protocol.ts): late detections, missed windows, false positives (standard
 * profile, fixed threshold). Reads the protocol's cached surprise streams (computes them when missing).
 *
 *   npx tsx bench/nab-breakdown.ts --data=../shared/data/nab [--model=base] [--range=0] [--threshold=0.999]
 *     [--tail=exponential] [--flagged-budget=off] [--record=full|margin] [--refractory=points] [--series] [--cache=dir] [--filter=regex]
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONDITIONAL_OPTIONS } from '../src/detector/timeseries/conditional.js';
import type { PValueRecord } from '../src/detector/timeseries/surprise-score.js';
import { InvalidOptionError } from '../src/errors.js';
import { newMaxOnly } from '../src/evaluate/nab-anomaly-score.js';
import { readNabCorpus } from '../src/evaluate/nab-corpus.js';
import { NAB_PROFILES } from '../src/evaluate/nab-score.js';
import { parseBenchArgs } from './lib/args.js';
import { groupLosses, seriesLoss } from './lib/nab-breakdown.js';
import { MODEL_GRID } from './lib/nab-protocol.js';
import { corpusStreams, postProcess } from './lib/nab-streams.js';
import { markdownTable } from './lib/stats.js';

/**
 * Detections at `threshold`, each silencing the next `refractory` points whatever their score (a hard
 * suppression after an alert; 0 = off).
 */
function withRefractory(scores: readonly number[], threshold: number, refractory: number): boolean[] {
  let last = Number.NEGATIVE_INFINITY;
  return scores.map((v, k) => {
    if (!(v > 0 && v >= threshold) || k - last <= refractory) return false;
    last = k;
    return true;
  });
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');

async function main(): Promise<void> {
  const argv = process.argv.slice(2).filter((a) => a !== '--series');
  const args = parseBenchArgs(argv, [
    'data',
    'model',
    'range',
    'threshold',
    'cache',
    'filter',
    'tail',
    'refractory',
    'flagged-budget',
    'record',
  ]);
  const dir = args.values.get('data') ?? '../shared/data/nab';
  const modelName = args.values.get('model') ?? 'base';
  const variant = MODEL_GRID.find(([name]) => name === modelName);
  if (variant === undefined || variant[1] === 'joint') {
    throw new InvalidOptionError(`--model must name a conditional variant of MODEL_GRID, got ${modelName}`);
  }
  const range = Number(args.values.get('range') ?? 0);
  const threshold = Number(args.values.get('threshold') ?? 0.999);
  const filter = args.values.get('filter');
  const corpus = await readNabCorpus(dir, filter === undefined ? undefined : new RegExp(filter));
  const cache = args.values.get('cache') ?? join(tmpdir(), 'flowsentinel-nab-cache');
  const streams = await corpusStreams(corpus, { ...DEFAULT_CONDITIONAL_OPTIONS, ...variant[1] }, cache);
  const profile = NAB_PROFILES.standard;
  const tail = args.values.get('tail') === 'exponential' ? 'exponential' : 'none';
  const recordArg = args.values.get('record') ?? 'rank';
  if (recordArg !== 'rank' && recordArg !== 'full' && recordArg !== 'margin')
    throw new InvalidOptionError(`--record must be rank, full or margin, got ${recordArg}`);
  const record: PValueRecord = recordArg;
  const options = {
    score: 'pvalue',
    window: 2000,
    minHistory: 100,
    average: 1,
    rangeTolerance: range,
    tail,
    flaggedBudget: args.values.get('flagged-budget') !== 'off',
    record,
  } as const;
  const refractory = Number(args.values.get('refractory') ?? 0);
  const losses = corpus.map((s, i) => {
    const raw = postProcess(s, streams.surprise[i]!, options, 0);
    const scores = newMaxOnly(raw, 100);
    return seriesLoss(s, withRefractory(scores, threshold, refractory), profile, raw);
  });
  console.log(
    `\n${modelName} pvalue tail ${tail}${options.flaggedBudget ? '' : ' learnall'}${record === 'rank' ? '' : ` record ${record}`} range ${range} @${threshold}, refractory ${refractory}, standard profile, fixed threshold\n`,
  );
  console.log(
    markdownTable(
      [
        'group',
        'windows',
        'found',
        'missed',
        'FP',
        'FP ≤ 1 width before a window',
        'lost: late',
        'lost: missed',
        'lost: FP',
        'score',
        'median position',
      ],
      groupLosses(losses, profile).map((g) => [
        g.group,
        String(g.windows),
        String(g.found),
        String(g.missed),
        String(g.fp),
        String(g.fpBefore),
        f1(g.late),
        f1(g.miss),
        f1(g.fpLoss),
        f1(100 - g.late - g.miss - g.fpLoss),
        g.medianPosition.toFixed(2),
      ]),
    ),
  );
  if (process.argv.includes('--series')) {
    console.log(
      '\nper series (raw NAB units: late = Σ(1 − credit), FP cost = Σ cost; best score before repeat suppression)\n',
    );
    console.log(
      markdownTable(
        [
          'series',
          'n',
          'windows',
          'found',
          'missed',
          'FP',
          'FP before',
          'late',
          'FP cost',
          'positions',
          'missed windows: first point (best score)',
        ],
        losses.map((l, i) => [
          l.name,
          String(corpus[i]!.values.length),
          String(l.windows),
          String(l.found),
          String(l.missed),
          String(l.fp),
          String(l.fpBefore),
          l.lateLoss.toFixed(2),
          l.fpCost.toFixed(2),
          l.positions.map((p) => p.toFixed(2)).join(' '),
          l.missedAt.map((at, k) => `${at} (${l.missedBest[k]!.toFixed(4)})`).join(' '),
        ]),
      ),
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
