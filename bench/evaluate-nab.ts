/**
 * NAB evaluation of the time-series mode with the evaluated config (config/nab.yaml unless --config): a
 * fresh detector per series (the NAB protocol), anomaly score = the detector's `anomalyScore` (the
 * anomaly likelihood when `timeseries.likelihood.enabled`; 0 while warming otherwise), repeated
 * detections suppressed (`newMaxOnly`, --dedupe points), then per profile: the NAB score with one
 * threshold swept over all series, and the score at the config's fixed threshold (the events the
 * detector flags). Prints the published detectors' scores on the same 35-series subset
 * (../shared/notes/anchors.md). Reads the data in place; never copy it into the repository.
 *
 *   npx tsx bench/evaluate-nab.ts --data=../shared/data/nab [--filter=realKnownCause] [--config=file.yaml]
 *     [--backend=wasm|cpu|auto] [--dedupe=100] [--json=bench/results/nab.json]
 *
 * `--protocol loco` (or `--protocol=loco`) runs the leave-one-category-out selection of the NAB config
 * instead (bench/lib/nab-protocol.ts, docs/evaluation.md "NAB protocol"): `--models=base,joint,base+joint,…` limits
 * the model variants (`seasonal` and `dailymix` run only when named) (a pair `a+b`: the two models' p-values combined, bench/lib/nab-combine.ts), `--cache=dir` sets where per-series surprise streams are cached ($TMPDIR/
 * flowsentinel-nab-cache), `--config` the joint baseline's config (config/nab-joint.yaml), `--json=file` writes every
 * candidate's per-category summary, `--post=tail,learnall,record,recordmargin` adds opt-in post-processing families
 * (`EXTRA_POST`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AppConfig } from '../src/config/index.js';
import { loadConfig } from '../src/config/index.js';
import { createDetector } from '../src/detector/factory.js';
import {
  ConditionalDetector,
  conditionalOptionsFromConfig,
  TimeSeriesDetector,
  TimeSeriesFeaturizer,
  timeSeriesOptionsFromConfig,
} from '../src/detector/timeseries/index.js';
import { InvalidOptionError } from '../src/errors.js';
import { newMaxOnly } from '../src/evaluate/nab-anomaly-score.js';
import { readNabCorpus } from '../src/evaluate/nab-corpus.js';
import {
  NAB_PROFILES,
  type NabProfile,
  type NabSeries,
  nabScore,
  normalise,
  scoreDetections,
  sweepPoints,
} from '../src/evaluate/nab-score.js';
import { initBackend } from '../src/flow/backend.js';
import type { FeatureEvent } from '../src/streams/types.js';
import { parseBenchArgs } from './lib/args.js';
import { COMBINE_PAIRS, pairName } from './lib/nab-combine.js';
import { MODEL_GRID, OPT_IN_MODELS, runLocoProtocol } from './lib/nab-protocol.js';
import { markdownTable } from './lib/stats.js';

/** Published detectors on the same subset, standard profile, threshold swept on the subset. */
const SUBSET_STANDARD: readonly (readonly [string, number])[] = [
  ['ARTime', 67.9],
  ['Numenta HTM', 66.6],
  ['CAD OSE', 62.2],
  ['KNN CAD', 53.0],
  ['Random Cut Forest', 49.5],
  ['Windowed Gaussian', 22.0],
];

/** Per-event anomaly score and verdict of one series. */
interface SeriesScores {
  readonly scores: number[];
  readonly flags: boolean[];
}

/** Runs `series` through a fresh time-series detector built from `config`, in micro-batches of 32. */
async function runSeries(series: NabSeries, config: AppConfig): Promise<SeriesScores> {
  const options = timeSeriesOptionsFromConfig(config);
  if (options === null) throw new InvalidOptionError('the NAB config needs timeseries.enabled: true');
  const rescored = options.scoring?.enabled === true;
  const parts = createDetector(config);
  try {
    const conditional = conditionalOptionsFromConfig(config);
    const detector =
      conditional === null
        ? new TimeSeriesDetector(new TimeSeriesFeaturizer(options), parts.detector)
        : new ConditionalDetector(conditional.model, conditional.scoring, conditional.threshold);
    const out: SeriesScores = { scores: [], flags: [] };
    for (let s = 0; s < series.values.length; s += 32) {
      const batch: FeatureEvent[] = [];
      for (let i = s; i < Math.min(series.values.length, s + 32); i++) {
        batch.push({
          ref: { topic: series.name, partition: 0, offset: String(i) },
          timestamp: series.timestamps[i]!,
          key: null,
          features: Float32Array.of(series.values[i]!),
        });
      }
      for (const r of await detector.process(batch)) {
        out.scores.push(rescored || r.status === 'scored' ? r.anomalyScore : 0);
        out.flags.push(r.isAnomaly);
      }
    }
    return out;
  } finally {
    parts.dispose();
  }
}

/** Normalised NAB score of fixed detections (a point detects when its value is ≥ 0.5), no sweep. */
function fixedScore(
  corpus: readonly NabSeries[],
  detections: readonly number[][],
  p: NabProfile,
  norm: { readonly nullScore: number; readonly perfectScore: number },
): number {
  const points = corpus.flatMap((s, k) => sweepPoints(s, detections[k]!, p));
  const raw = scoreDetections(points, (point) => point.anomalyScore >= 0.5, p);
  return normalise(raw, norm.nullScore, norm.perfectScore).normalised;
}

/** `--protocol loco` is accepted as well as `--protocol=loco`. */
function joinedArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--protocol' && argv[i + 1] !== undefined) out.push(`--protocol=${argv[++i]}`);
    else out.push(a);
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(joinedArgs(process.argv.slice(2)), [
    'data',
    'filter',
    'config',
    'backend',
    'dedupe',
    'json',
    'protocol',
    'models',
    'cache',
    'post',
  ]);
  const dir = args.values.get('data') ?? '../shared/data/nab';
  const protocol = args.values.get('protocol');
  if (protocol !== undefined) {
    if (protocol !== 'loco') throw new InvalidOptionError(`--protocol must be loco, got "${protocol}"`);
    const filter = args.values.get('filter');
    const corpus = await readNabCorpus(dir, filter === undefined ? undefined : new RegExp(filter));
    const jointConfig = loadConfig({ env: {}, file: args.values.get('config') ?? 'config/nab-joint.yaml' });
    await initBackend((args.backend ?? jointConfig.backend) as Parameters<typeof initBackend>[0]);
    const only = args.values.get('models')?.split(',');
    const models = MODEL_GRID.filter(([name]) =>
      only === undefined ? !OPT_IN_MODELS.has(name) : only.includes(name),
    );
    const pairs = COMBINE_PAIRS.filter((pair) => only === undefined || only.includes(pairName(pair)));
    const cache = args.values.get('cache');
    const dedupe = Number(args.values.get('dedupe') ?? 100);
    const post = args.values.get('post')?.split(',') ?? [];
    const { summaries } = await runLocoProtocol(corpus, dedupe, models, jointConfig, cache, pairs, post);
    const json = args.values.get('json');
    if (json !== undefined) {
      await mkdir(dirname(json), { recursive: true });
      await writeFile(json, `${JSON.stringify({ protocol: 'loco', dedupe, summaries }, null, 1)}\n`);
    }
    return;
  }
  const file = args.values.get('config') ?? 'config/nab.yaml';
  const config = loadConfig({ env: {}, file });
  const backend = await initBackend((args.backend ?? config.backend) as Parameters<typeof initBackend>[0]);
  const filter = args.values.get('filter');
  const dedupe = Number(args.values.get('dedupe') ?? 100);
  const corpus = await readNabCorpus(dir, filter === undefined ? undefined : new RegExp(filter));
  process.stderr.write(`NAB from ${dir} on ${backend.name}, config ${file}\n`);
  const t0 = performance.now();
  const swept: number[][] = [];
  const fixed: number[][] = [];
  for (const series of corpus) {
    const t = performance.now();
    const { scores, flags } = await runSeries(series, config);
    swept.push(newMaxOnly(scores, dedupe));
    fixed.push(newMaxOnly(flags.map(Number), dedupe));
    process.stderr.write(
      `  ${series.name}: ${series.values.length} points, ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
    );
  }
  const elapsed = (performance.now() - t0) / 1000;
  const points = corpus.reduce((s, c) => s + c.values.length, 0);
  const windows = corpus.reduce((s, c) => s + c.windows.length, 0);
  const results = Object.entries(NAB_PROFILES).map(([name, p]) => {
    const optimised = nabScore(corpus, swept, p);
    return { name, ...optimised, fixed: fixedScore(corpus, fixed, p, optimised) };
  });
  console.log(
    `\nNAB: ${corpus.length} series, ${windows} windows, ${points} points, ${elapsed.toFixed(0)} s on ${backend.name}; config ${file}, dedupe ${dedupe}\n`,
  );
  console.log(
    markdownTable(
      ['profile', 'score, optimised threshold', 'optimised threshold', 'score, fixed threshold (config)'],
      results.map((r) => [r.name, r.normalised.toFixed(1), r.threshold.toFixed(4), r.fixed.toFixed(1)]),
    ),
  );
  const standard = results[0]!.normalised;
  const rows = [...SUBSET_STANDARD, ['flowsentinel (this run)', standard] as const]
    .slice()
    .sort((a, b) => b[1] - a[1])
    .map(([name, score]) => [name, score.toFixed(1)]);
  console.log(
    `\nStandard profile, optimised threshold, on the 35-series subset (../shared/notes/anchors.md):\n`,
  );
  console.log(markdownTable(['detector', 'standard'], rows));
  if (filter !== undefined) console.log('\n(filtered run: not comparable with the full-subset numbers)');
  const json = args.values.get('json');
  if (json !== undefined) {
    await mkdir(dirname(json), { recursive: true });
    await writeFile(
      json,
      `${JSON.stringify({ config: file, dedupe, points, seconds: elapsed, results }, null, 2)}\n`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
