/**
 * Full-pipeline throughput and latency: `runDetectorJob` (decode → micro-batch → OnlineDetector → sinks →
 * acknowledge) over a replay source at maximum speed, scoring only and scoring + one training step per
 * batch. Latency is wall time from the record leaving the source to its batch being acknowledged (after
 * the sink writes). Not a test: no assertions; numbers depend on the machine and its load.
 *
 *   npm run bench:pipeline -- [--quick] [--events=N] [--repeats=N] [--backend=auto|wasm|cpu]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppConfig, loadConfig } from '../src/config/index.js';
import { InvalidOptionError } from '../src/errors.js';
import * as tf from '../src/flow/tf.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { writeGeneratedFixture } from './lib/fixture.js';
import { type JobRunResult, runJobOnce } from './lib/job-run.js';
import { formatMs, formatRate, markdownTable, median, quantileSorted } from './lib/stats.js';

const FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
const BACKENDS = ['auto', 'wasm', 'cpu', 'tensorflow'] as const;

/** One benchmarked configuration. */
interface Scenario {
  readonly name: string;
  readonly stepsPerBatch: number;
  readonly highWaterMark: number;
}

function benchConfig(backend: AppConfig['backend'], s: Scenario): AppConfig {
  return loadConfig({
    env: {},
    overrides: {
      backend,
      features: { fields: FIELDS },
      training: { stepsPerBatch: s.stepsPerBatch },
      batching: { highWaterMark: s.highWaterMark },
      metrics: { enabled: false },
    },
  });
}

/** Runs a scenario `repeats` times and keeps the run with the median throughput. */
async function runScenario(
  backend: AppConfig['backend'],
  s: Scenario,
  file: string,
  dir: string,
  repeats: number,
): Promise<JobRunResult> {
  const runs: JobRunResult[] = [];
  for (let r = 0; r < repeats; r++) {
    const run = await runJobOnce(benchConfig(backend, s), file, dir);
    process.stderr.write(
      `  ${s.name} hwm=${s.highWaterMark} #${r + 1}: ${formatRate(run.eventsPerSecond)} events/s\n`,
    );
    runs.push(run);
  }
  const mid = median(runs.map((r) => r.eventsPerSecond));
  return runs.reduce((best, r) =>
    Math.abs(r.eventsPerSecond - mid) < Math.abs(best.eventsPerSecond - mid) ? r : best,
  );
}

function resultRow(s: Scenario, r: JobRunResult): string[] {
  const q = (p: number): string => formatMs(quantileSorted(r.latencies, p));
  return [
    s.name,
    String(s.stepsPerBatch),
    String(s.highWaterMark),
    String(r.events),
    String(r.batches),
    formatRate(r.eventsPerSecond),
    formatRate(r.eventsPerCpuSecond),
    q(0.5),
    q(0.99),
    formatMs(r.latencies.at(-1) ?? Number.NaN),
    String(r.maxInFlight),
  ];
}

function parseBackend(raw: string | undefined): AppConfig['backend'] {
  const found = BACKENDS.find((b) => b === (raw ?? 'auto'));
  if (found === undefined) {
    throw new InvalidOptionError(`--backend must be one of ${BACKENDS.join(', ')}, got "${String(raw)}"`);
  }
  return found;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), ['events', 'repeats', 'backend']);
  const events = Math.round(numberArg(args, 'events', args.quick ? 10_000 : 50_000));
  const repeats = Math.round(numberArg(args, 'repeats', args.quick ? 1 : 3));
  const backend = parseBackend(args.backend);
  const dir = await mkdtemp(join(tmpdir(), 'flowsentinel-bench-'));
  try {
    const file = join(dir, 'events.jsonl');
    await writeGeneratedFixture(file, { seed: 2024, count: events, fields: FIELDS, anomalyRate: 0.01 });
    const warmFile = join(dir, 'warmup.jsonl');
    await writeGeneratedFixture(warmFile, { seed: 7, count: 3000, fields: FIELDS });
    const scenarios: Scenario[] = [
      { name: 'score only', stepsPerBatch: 0, highWaterMark: 10_000 },
      { name: 'score + learn', stepsPerBatch: 1, highWaterMark: 10_000 },
      ...(args.quick
        ? []
        : [
            { name: 'score only', stepsPerBatch: 0, highWaterMark: 512 },
            { name: 'score + learn', stepsPerBatch: 1, highWaterMark: 512 },
          ]),
    ];
    // Untimed: JIT, wasm kernels and file-system caches.
    await runJobOnce(
      benchConfig(backend, { name: 'warm-up', stepsPerBatch: 1, highWaterMark: 10_000 }),
      warmFile,
      dir,
    );
    const rows: string[][] = [];
    let active = '';
    for (const s of scenarios) {
      const r = await runScenario(backend, s, file, dir, repeats);
      active = r.backend;
      rows.push(resultRow(s, r));
    }
    const defaults = benchConfig(backend, scenarios[0]!);
    const header = [
      'mode',
      'steps/batch',
      'highWaterMark',
      'events',
      'batches',
      'events/s',
      'events/cpu-s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'max in flight',
    ];
    process.stdout.write(
      `# Pipeline benchmark\n\nnode ${process.version}, tfjs ${tf.version_core}, backend ${active}, ` +
        `load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}; d=${FIELDS.length}, model ${defaults.model.type} ` +
        `${defaults.model.layers}x${defaults.model.hidden}, batch ≤ ${defaults.batching.maxSize} events / ` +
        `${defaults.batching.maxWaitMs} ms, training batch ${defaults.training.batchSize}, warm-up ` +
        `${defaults.warmup.events} events; replay at max speed, median of ${repeats} run(s)\n\n` +
        `${markdownTable(header, rows)}\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
