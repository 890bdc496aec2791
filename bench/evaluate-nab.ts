/**
 * NAB evaluation of the time-series mode: a fresh detector per series (the NAB protocol), anomaly score
 * = the detector's `anomalyScore` (0 while warming), one threshold swept over the corpus per profile, and
 * the normalised scores next to the published detectors' scores on the same 35-series subset
 * (../shared/notes/anchors.md). Reads the data in place; never copy it into the repository.
 *
 *   npx tsx bench/evaluate-nab.ts --data=../shared/data/nab [--filter=realKnownCause] [--config=file.yaml]
 *     [--backend=wasm|cpu|auto] [--dedupe=100]
 */
import { performance } from 'node:perf_hooks';
import { evaluateNab } from '../src/cli/evaluate.js';
import { type ConfigOverrides, loadConfig } from '../src/config/index.js';
import { initBackend } from '../src/flow/backend.js';
import { parseBenchArgs } from './lib/args.js';
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

/** The evaluated configuration unless `--config` is given: see docs/detector.md, "Time-series mode". */
const DEFAULTS: ConfigOverrides = {
  features: { fields: ['value'] },
  timeseries: { enabled: true, lags: 8, differences: true, timeOfDay: true, dayOfWeek: false },
  model: { type: 'realnvp', layers: 4, hidden: 32, seed: 3 },
  training: {
    stepsPerBatch: 4,
    learningRate: 0.003,
    batchSize: 128,
    replayReservoir: { size: 2000, fraction: 0.5 },
    // NAB series change regime (level shifts that persist); a model that never learns flagged events
    // keeps flagging the new regime. Learning them too doubled the score (12.6 → 26.1 before dedupe).
    trainOnAnomalies: true,
  },
  standardiser: { mode: 'ema', emaAlpha: 0.002 },
  warmup: { events: 300 },
  threshold: { policy: 'quantile', quantile: 0.005, window: 2000, minObservations: 300 },
  metrics: { enabled: false },
  explain: { enabled: false },
};

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), ['data', 'filter', 'config', 'backend', 'dedupe']);
  const dir = args.values.get('data') ?? '../shared/data/nab';
  const file = args.values.get('config');
  const config = loadConfig({
    env: {},
    ...(file === undefined ? { overrides: DEFAULTS } : { file }),
  });
  const backend = await initBackend((args.backend ?? config.backend) as Parameters<typeof initBackend>[0]);
  const filter = args.values.get('filter');
  process.stderr.write(`NAB from ${dir} on ${backend.name}\n`);
  const t0 = performance.now();
  let last = t0;
  const result = await evaluateNab({
    dir,
    config,
    ...(filter === undefined ? {} : { filter: new RegExp(filter) }),
    dedupeWindow: Number(args.values.get('dedupe') ?? 100),
    onSeries: (series) => {
      const now = performance.now();
      process.stderr.write(
        `  ${series.name}: ${series.values.length} points, ${((now - last) / 1000).toFixed(1)} s\n`,
      );
      last = now;
    },
  });
  const elapsed = (performance.now() - t0) / 1000;
  const results = Object.entries(result.profiles).map(([name, r]) => ({ name, ...r }));
  console.log(
    `\nNAB: ${result.series} series, ${result.windows} windows, ${result.points} points, ${elapsed.toFixed(0)} s\n`,
  );
  console.log(
    markdownTable(
      ['profile', 'normalised score', 'threshold', 'raw', 'null', 'perfect'],
      results.map((r) => [
        r.name,
        r.normalised.toFixed(1),
        r.threshold.toFixed(4),
        r.raw.toFixed(2),
        r.nullScore.toFixed(2),
        r.perfectScore.toFixed(2),
      ]),
    ),
  );
  const standard = results[0]!.normalised;
  const rows = [...SUBSET_STANDARD, ['flowsentinel (this run)', standard] as const]
    .slice()
    .sort((a, b) => b[1] - a[1])
    .map(([name, score]) => [name, score.toFixed(1)]);
  console.log(
    `\nStandard profile on the 35-series subset (published detectors from ../shared/notes/anchors.md):\n`,
  );
  console.log(markdownTable(['detector', 'standard'], rows));
  if (filter !== undefined) console.log('\n(filtered run: not comparable with the full-subset numbers)');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
