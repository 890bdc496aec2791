/**
 * Kafka throughput and latency against a real broker: the raw kafkajs consume rate of a pre-produced
 * topic (baseline), the same job without Kafka (replay path), flowsentinel end to end (KafkaSource →
 * detector → KafkaSinks, commits on) scoring only and with online learning, their ratios to both, and
 * p50/p99 latency from produce to the scored event being published, at a fixed offered load. The
 * Kafka rows run once per (`--pause-after-ms`, `--writes-in-flight`) pair, in the same process, so
 * before and after a change are measured back to back: `--writes-in-flight=0` is the pipeline before
 * output writes overlapped scoring, `--pause-after-ms=0` the source before the credit wait. Not a test:
 * no assertions; numbers depend on the machine and its load (printed).
 *
 *   npm run bench:kafka -- [--quick] [--events=N] [--rate=5000] [--seconds=N] [--backend=wasm|cpu]
 *                          [--hwm=4096] [--pause-after-ms=500] [--writes-in-flight=0,1]
 *                          [--max-bytes-per-partition=N,…] [--before=<commit>]
 *
 * `--before=<commit>` adds rows with that commit's `src/kafka` (a temporary git worktree) in this
 * checkout's pipeline: before and after the Kafka plumbing changed, in the same run.
 *
 * Uses KAFKA_BROKERS when set, else starts a local broker (scripts/kafka/broker.ts).
 */

import { loadavg } from 'node:os';
import { type KafkaBroker, startKafkaBroker } from '../scripts/kafka/broker.js';
import { DEFAULT_PAUSE_AFTER_MS, DEFAULT_WRITES_IN_FLIGHT } from '../src/config/schema-run.js';
import { InvalidOptionError } from '../src/errors.js';
import { createKafka } from '../src/kafka/index.js';
import { createLogger } from '../src/logging.js';
import type { SourceRecord } from '../src/streams/types.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { CURRENT, loadBefore } from './lib/kafka-before.js';
import {
  benchConfig,
  detectorRun,
  type JobRun,
  latencyRun,
  PARTITIONS,
  producedInput,
  rawConsume,
  replayRun,
  type Timed,
  WARMUP_EVENTS,
} from './lib/kafka-runs.js';
import {
  intList,
  type LatencyRun,
  type Setting,
  summarize,
  type Variant,
  variantName,
} from './lib/kafka-summary.js';
import { formatMs, formatRate, markdownTable, median, quantileSorted } from './lib/stats.js';

const logger = createLogger({ level: 'warn', destination: process.stderr });
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), [
    'events',
    'rate',
    'seconds',
    'backend',
    'hwm',
    'pause-after-ms',
    'writes-in-flight',
    'rounds',
    'latency-rounds',
    'sink-delay-ms',
    'before',
    'max-bytes-per-partition',
    'learning',
  ]);
  // --learning=0 skips the scoring + learning rows (the issue-14 ratio is about scoring only).
  const [learningFlag = 1] = intList(args, 'learning', [1]);
  const withLearning = learningFlag > 0;
  const [sinkDelayMs = 0] = intList(args, 'sink-delay-ms', [0]);
  // 0 rounds skips that part.
  const [rounds = 2] = intList(args, 'rounds', [args.quick ? 1 : 2]);
  const [latencyRounds = 1] = intList(args, 'latency-rounds', [1]);
  const hwm = numberArg(args, 'hwm', 4096);
  const before = args.values.get('before');
  const loaded = before === undefined ? undefined : await loadBefore(before);
  const fetchSizes: (number | undefined)[] = args.values.has('max-bytes-per-partition')
    ? intList(args, 'max-bytes-per-partition', [])
    : [undefined];
  const settings: Setting[] = [...(loaded ? [loaded.impl] : []), CURRENT].flatMap((impl) =>
    intList(args, 'pause-after-ms', [DEFAULT_PAUSE_AFTER_MS]).flatMap((pauseAfterMs) =>
      intList(args, 'writes-in-flight', [0, DEFAULT_WRITES_IN_FLIGHT]).flatMap((writesInFlight) =>
        fetchSizes.map((maxBytesPerPartition) => ({
          pauseAfterMs,
          writesInFlight,
          ...(maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition }),
          ...(impl === CURRENT ? {} : { impl }),
        })),
      ),
    ),
  );
  const events = numberArg(args, 'events', args.quick ? 20_000 : 100_000);
  const rates = intList(args, 'rate', [5000]);
  if (rates.some((n) => n < 1)) throw new InvalidOptionError('--rate takes events/s > 0, e.g. 5000,2000');
  const seconds = numberArg(args, 'seconds', args.quick ? 5 : 20);
  const backend = args.backend ?? 'auto';
  const external = process.env.KAFKA_BROKERS?.split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  let broker: KafkaBroker | undefined;
  if (external === undefined || external.length === 0) broker = await startKafkaBroker({ maxHeapMb: 768 });
  const brokers = external && external.length > 0 ? external : (broker?.brokers ?? []);
  const loadAtStart = load();
  try {
    const base = benchConfig(brokers, backend, 0, hwm);
    const kafka = createKafka(base.kafka, { logger });
    // Generated once, before any timing: the replay path then costs the pipeline only, not the generator.
    const { input, generated } = await producedInput(kafka, 'in', events);
    const records = (): Iterable<SourceRecord> => generated;

    // Warm-up, not timed: the first detector run of the process pays for the JIT and tfjs kernels.
    await replayRun(base, () => generated.slice(0, Math.min(events, 20_000)), Math.min(events, 20_000));
    const raw = await rawConsume(kafka, input, events);
    const variants: Variant[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const setting of round % 2 === 1 ? settings : [...settings].reverse()) {
        const replay = await replayRun(base, records, events);
        const scoring = await detectorRun(base, input, events, setting);
        const learning = withLearning
          ? await detectorRun(benchConfig(brokers, backend, 1, hwm), input, events, setting)
          : undefined;
        variants.push({ ...setting, round, replay, scoring, ...(learning ? { learning } : {}) });
      }
    }
    const simulated: SimulatedRun[] = [];
    for (let round = 1; sinkDelayMs > 0 && round <= rounds; round++) {
      for (const setting of round % 2 === 1 ? settings : [...settings].reverse()) {
        const slow = { delayMs: sinkDelayMs, writesInFlight: setting.writesInFlight };
        simulated.push({ ...setting, round, ...(await replayRun(base, records, events, slow)) });
      }
    }
    const latency: LatencyRun[] = [];
    for (let round = 1; round <= latencyRounds; round++) {
      for (const rate of rates) {
        for (const setting of round % 2 === 1 ? settings : [...settings].reverse()) {
          const run = await latencyRun(brokers, backend, { rate, seconds, highWaterMark: hwm }, setting);
          latency.push({ ...setting, rate, round, ...run, load: load().split(' / ')[0] ?? '' });
        }
      }
    }
    report({ events, backend, hwm, seconds, raw, variants, latency, loads: [loadAtStart, load()] });
    reportSimulated(simulated, events, sinkDelayMs);
  } finally {
    await broker?.stop();
    loaded?.remove();
  }
}

interface Report {
  readonly events: number;
  readonly backend: string;
  readonly hwm: number;
  readonly seconds: number;
  readonly raw: Timed;
  readonly variants: readonly Variant[];
  readonly latency: readonly LatencyRun[];
  readonly loads: readonly [string, string];
}

function report(r: Report): void {
  const rateOf = (ms: number): number => (r.events * 1000) / ms;
  const row = (name: string, { ms, cpuMs, gcMs }: Timed, replay?: Timed, job?: JobRun): string[] => {
    return [
      name,
      formatRate(rateOf(ms)),
      formatRate(rateOf(cpuMs)),
      gcMs === undefined ? '-' : ((1000 * gcMs) / r.events).toFixed(1),
      (r.raw.ms / ms).toFixed(2),
      replay ? (replay.ms / ms).toFixed(2) : '-',
      replay ? (replay.cpuMs / cpuMs).toFixed(2) : '-',
      job ? String(job.anomalies) : '-',
      job ? String(job.batches) : '-',
      job ? `${(100 * job.busy).toFixed(0)}%` : '-',
      job ? String(job.fetchPauses) : '-',
      job ? String(job.commits) : '-',
    ];
  };
  const label = (v: Variant): string =>
    `${variantName(v)}${r.variants.some((x) => x.round > 1) ? ` #${v.round}` : ''}`;
  const rows = [
    row('raw kafkajs consume (baseline: fetch + decode only)', r.raw),
    ...r.variants.flatMap((v) => [
      row(`replay path, scoring only (no Kafka), before ${label(v)}`, v.replay),
      row(`Kafka job, scoring only, ${label(v)}`, v.scoring, v.replay, v.scoring),
      ...(v.learning
        ? [row(`Kafka job, scoring + learning, ${label(v)}`, v.learning, v.replay, v.learning)]
        : []),
    ]),
  ];
  const out = (s: string): boolean => process.stdout.write(s);
  out(
    `\nThroughput, ${r.events.toLocaleString('en-US')} pre-produced events, ${PARTITIONS} partitions, backend ${r.backend}, highWaterMark ${r.hwm}; load average (1/5/15 min) ${r.loads[0]} at start, ${r.loads[1]} at end; rows in run order\n\n`,
  );
  const header = [
    'run',
    'events/s',
    'events/CPU-s',
    'GC µs/event',
    'vs raw',
    'vs replay',
    'vs replay (CPU)',
    'anomalies',
    'batches',
    'loop busy',
    'fetch pauses',
    'commits',
  ];
  out(`${markdownTable(header, rows)}\n`);
  const summaries = summarize(r.variants);
  out(
    `\nMedians over rounds (ratios: replay path ÷ Kafka job of the same round)\n\n${markdownTable(
      [
        'setting',
        'rounds',
        'scoring only ev/s',
        'vs replay',
        'vs replay (CPU)',
        'Kafka plumbing CPU µs/event',
        'learning ev/s',
        'vs replay',
      ],
      summaries.map((m) => [
        variantName(m),
        String(m.rounds),
        formatRate(rateOf(m.scoringMs)),
        m.scoring.toFixed(2),
        m.scoringCpu.toFixed(2),
        ((1000 * m.plumbingCpuMs) / r.events).toFixed(1),
        Number.isNaN(m.learningMs) ? '-' : formatRate(rateOf(m.learningMs)),
        Number.isNaN(m.learning) ? '-' : m.learning.toFixed(2),
      ]),
    )}\n`,
  );
  out(
    `\nLatency produce → scored event published, offered for ${r.seconds} s each, learning on, every score written (first ${WARMUP_EVENTS} events skipped)\n\n`,
  );
  const p99Of = (run: LatencyRun): number => quantileSorted(run.latencies, 0.99);
  out(
    `${markdownTable(
      [
        'run',
        'offered ev/s',
        'events',
        'p50 ms',
        'p99 ms',
        'max ms',
        'batches',
        'loop busy',
        'fetch pauses',
        'load (1 min) after',
      ],
      r.latency.map((run) => [
        `${variantName(run)} #${run.round}`,
        formatRate(run.rate),
        String(run.latencies.length),
        formatMs(quantileSorted(run.latencies, 0.5)),
        formatMs(p99Of(run)),
        formatMs(run.latencies.at(-1) ?? Number.NaN),
        String(run.batches),
        `${(100 * run.busy).toFixed(0)}%`,
        String(run.fetchPauses),
        run.load,
      ]),
    )}\n`,
  );
  const latencyKeys = [...new Set(r.latency.map((l) => `${l.rate}\u0000${variantName(l)}`))];
  const latencyMedian = latencyKeys.map((key) => {
    const runs = r.latency.filter((l) => `${l.rate}\u0000${variantName(l)}` === key);
    const at = (q: number) => median(runs.map((l) => quantileSorted(l.latencies, q)));
    return { run: runs[0]!, rounds: runs.length, p50: at(0.5), p99: at(0.99) };
  });
  if (r.latency.some((l) => l.round > 1)) {
    out(
      `\nLatency, medians over rounds\n\n${markdownTable(
        ['setting', 'offered ev/s', 'rounds', 'p50 ms', 'p99 ms'],
        latencyMedian.map((m) => [
          variantName(m.run),
          formatRate(m.run.rate),
          String(m.rounds),
          formatMs(m.p50),
          formatMs(m.p99),
        ]),
      )}\n`,
    );
  }
  const target = summaries.at(-1);
  if (target === undefined) return;
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  const perEventUs = (cpuMs: number): string => ((1000 * cpuMs) / r.events).toFixed(1);
  const first = latencyMedian.find((l) => variantName(l.run) === variantName(target))?.run;
  const p99 =
    latencyMedian.find((l) => l.run === first)?.p99 ?? (first === undefined ? Number.NaN : p99Of(first));
  out(
    `\nTargets (issue 14), ${variantName(target)} (medians)\n\n${markdownTable(
      ['target', 'measured', ''],
      [
        [
          'Kafka scoring only ≥ 80% of the replay path (wall)',
          `${(100 * target.scoring).toFixed(0)}%`,
          verdict(target.scoring >= 0.8),
        ],
        [
          'Kafka scoring only ≥ 80% of the replay path (CPU time)',
          `${(100 * target.scoringCpu).toFixed(0)}%`,
          verdict(target.scoringCpu >= 0.8),
        ],
        [
          `p99 produce→published ≤ 250 ms at ${formatRate(first?.rate ?? Number.NaN)} ev/s, learning on`,
          `${formatMs(p99)} ms`,
          verdict(p99 <= 250),
        ],
        ['Kafka scoring only vs raw consume', `${((100 * r.raw.ms) / target.scoringMs).toFixed(0)}%`, '-'],
        [
          'Kafka plumbing per event (job − replay, CPU) / kafkajs consume alone (CPU)',
          `${perEventUs(target.plumbingCpuMs)} µs / ${perEventUs(r.raw.cpuMs)} µs`,
          '-',
        ],
      ],
    )}\n`,
  );
}

/** A replay-path run whose sinks answer after a fixed delay. */
type SimulatedRun = Setting & Timed & { readonly round: number };

function reportSimulated(runs: readonly SimulatedRun[], events: number, delayMs: number): void {
  if (runs.length === 0) return;
  const rate = (ms: number): string => formatRate((events * 1000) / ms);
  process.stdout.write(
    `\nReplay path, scoring only, anomalies and every score written to sinks that answer ${delayMs} ms later (a simulated broker round trip, no CPU)\n\n${markdownTable(
      ['setting', 'round', 'events/s', 'events/CPU-s'],
      runs.map((r) => [variantName(r), String(r.round), rate(r.ms), rate(r.cpuMs)]),
    )}\n`,
  );
}

await main();
