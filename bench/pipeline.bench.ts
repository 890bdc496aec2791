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
import { performance } from 'node:perf_hooks';
import { tap } from 'rxjs';
import { runDetectorJob } from '../src/cli/job.js';
import { type AppConfig, loadConfig } from '../src/config/index.js';
import { InvalidOptionError } from '../src/errors.js';
import * as tf from '../src/flow/tf.js';
import { createLogger } from '../src/logging.js';
import { replaySource } from '../src/streams/replay-source.js';
import { JsonlFileSink, serializeDeadLetter, serializeScoredEvent } from '../src/streams/sinks.js';
import type { RecordSource } from '../src/streams/source.js';
import type { DeadLetter, RecordRef, ScoredEvent } from '../src/streams/types.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { writeGeneratedFixture } from './lib/fixture.js';
import { formatMs, formatRate, markdownTable, median, quantileSorted } from './lib/stats.js';
import { clockMs } from './lib/timing.js';

const FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
const BACKENDS = ['auto', 'wasm', 'cpu', 'tensorflow'] as const;
const logger = createLogger({ level: 'warn', destination: process.stderr });

/** One benchmarked configuration. */
interface Scenario {
  readonly name: string;
  readonly stepsPerBatch: number;
  readonly highWaterMark: number;
}

/** Measurements of one run. */
interface RunResult {
  readonly events: number;
  readonly batches: number;
  readonly anomalies: number;
  /** Events per wall second, first read to last acknowledgement. */
  readonly eventsPerSecond: number;
  /** Events per second of this process's CPU time over the whole job (steadier on a shared machine). */
  readonly eventsPerCpuSecond: number;
  /** Per-event read → acknowledged latency, ms, ascending. */
  readonly latencies: Float64Array;
  readonly maxInFlight: number;
  readonly backend: string;
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

const refKey = (r: RecordRef): string => `${r.topic}\u0000${r.partition}\u0000${r.offset}`;

/** `source` with the wall time at which each record is emitted recorded into `readAt`. */
function stampedSource(source: RecordSource, readAt: Map<string, number>): RecordSource {
  return {
    records: (credits) => source.records(credits).pipe(tap((r) => readAt.set(refKey(r), performance.now()))),
  };
}

/** Runs the whole job once over `file`; sinks write JSONL files into `dir`. */
async function runOnce(config: AppConfig, file: string, dir: string): Promise<RunResult> {
  const anomalies = await JsonlFileSink.open<ScoredEvent>({
    path: join(dir, 'anomalies.jsonl'),
    serialize: serializeScoredEvent,
    mode: 'truncate',
  });
  const deadLetters = await JsonlFileSink.open<DeadLetter>({
    path: join(dir, 'dead-letters.jsonl'),
    serialize: serializeDeadLetter,
    mode: 'truncate',
  });
  const readAt = new Map<string, number>();
  const latencies: number[] = [];
  let firstRead = Number.POSITIVE_INFINITY;
  let lastAck = 0;
  const cpu0 = clockMs('cpu');
  try {
    const result = await runDetectorJob({
      config,
      logger,
      source: stampedSource(replaySource({ path: file, speed: 'max' }), readAt),
      sinks: { anomalies, deadLetters },
      serveMetrics: false,
      onBatch: (info) => {
        const now = performance.now();
        for (const e of info.events) {
          const key = refKey(e.ref);
          const t = readAt.get(key);
          if (t === undefined) continue;
          readAt.delete(key);
          firstRead = Math.min(firstRead, t);
          latencies.push(now - t);
        }
        lastAck = now;
      },
    });
    const cpuMs = clockMs('cpu') - cpu0;
    result.parts.dispose();
    const sorted = Float64Array.from(latencies).sort();
    return {
      events: result.summary.scored + result.summary.warming,
      batches: result.summary.batches,
      anomalies: result.summary.anomalies,
      eventsPerSecond: (latencies.length * 1000) / (lastAck - firstRead),
      eventsPerCpuSecond: (latencies.length * 1000) / cpuMs,
      latencies: sorted,
      maxInFlight: result.summary.maxInFlight,
      backend: tf.getBackend(),
    };
  } finally {
    await Promise.all([anomalies.close(), deadLetters.close()]);
  }
}

/** Runs a scenario `repeats` times and keeps the run with the median throughput. */
async function runScenario(
  backend: AppConfig['backend'],
  s: Scenario,
  file: string,
  dir: string,
  repeats: number,
): Promise<RunResult> {
  const runs: RunResult[] = [];
  for (let r = 0; r < repeats; r++) {
    const run = await runOnce(benchConfig(backend, s), file, dir);
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

function resultRow(s: Scenario, r: RunResult): string[] {
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
    await runOnce(
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
