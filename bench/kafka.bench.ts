/**
 * Kafka throughput and latency against a real broker: the raw kafkajs consume rate of a pre-produced
 * topic (baseline), the same job without Kafka (replay path), flowsentinel end to end (KafkaSource →
 * detector → KafkaSinks, commits on) scoring only and with online learning, their ratios to both, and
 * p50/p99 latency from produce to the scored event being published, at a fixed offered load. The
 * Kafka rows run once per `--pause-after-ms` value, in the same process, so before (0: pause at every
 * full gate) and after (the default) are measured back to back. Not a test: no assertions; numbers
 * depend on the machine and its load (printed).
 *
 *   npm run bench:kafka -- [--quick] [--events=N] [--rate=5000] [--seconds=N] [--backend=wasm|cpu]
 *                          [--hwm=4096] [--pause-after-ms=0,500]
 *
 * Uses KAFKA_BROKERS when set, else starts a local broker (scripts/kafka/broker.ts).
 */

import { loadavg } from 'node:os';
import { type KafkaBroker, startKafkaBroker } from '../scripts/kafka/broker.js';
import { DEFAULT_PAUSE_AFTER_MS } from '../src/config/schema-run.js';
import { InvalidOptionError } from '../src/errors.js';
import { createKafka, produceRecords } from '../src/kafka/index.js';
import { createLogger } from '../src/logging.js';
import { generateRecords } from '../src/streams/generator-source.js';
import type { SourceRecord } from '../src/streams/types.js';
import { type BenchArgs, numberArg, parseBenchArgs } from './lib/args.js';
import {
  benchConfig,
  createTopics,
  detectorRun,
  FIELDS,
  type JobRun,
  latencyRun,
  PARTITIONS,
  rawConsume,
  replayRun,
  type Timed,
  topicName,
  WARMUP_EVENTS,
} from './lib/kafka-runs.js';
import { formatMs, formatRate, markdownTable, quantileSorted } from './lib/stats.js';

const logger = createLogger({ level: 'warn', destination: process.stderr });
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');

/** `--pause-after-ms=a,b,…`: the KafkaSource pauseAfterMs values to compare (default 0 and the default). */
function pauseAfterList(args: BenchArgs): number[] {
  const raw = args.values.get('pause-after-ms');
  if (raw === undefined) return [0, DEFAULT_PAUSE_AFTER_MS];
  const list = raw.split(',').map(Number);
  if (list.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new InvalidOptionError(`--pause-after-ms takes integers >= 0 separated by commas, got "${raw}"`);
  }
  return list;
}

const variantName = (ms: number): string =>
  ms === 0 ? 'pauseAfterMs 0 (pause at every full gate)' : `pauseAfterMs ${ms}`;

interface Variant {
  readonly pauseAfterMs: number;
  /** The replay path measured right before this variant's rows (the load drifts between rows). */
  readonly replay: Timed;
  readonly scoring: JobRun;
  readonly learning: JobRun;
  latency: { latencies: number[]; fetchPauses: number };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), [
    'events',
    'rate',
    'seconds',
    'backend',
    'hwm',
    'pause-after-ms',
  ]);
  const hwm = numberArg(args, 'hwm', 4096);
  const pauseAfter = pauseAfterList(args);
  const events = numberArg(args, 'events', args.quick ? 20_000 : 100_000);
  const rate = numberArg(args, 'rate', 5000);
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
    const admin = kafka.admin();
    await admin.connect();
    const input = topicName('in');
    await createTopics(admin, [input]);
    await admin.disconnect();
    // Generated once, before any timing: the replay path then costs the pipeline only, not the generator.
    const generated: readonly SourceRecord[] = [
      ...generateRecords({
        seed: 1,
        count: events,
        fields: FIELDS,
        partitions: PARTITIONS,
        entities: 64,
        topic: input,
      }),
    ];
    const records = (): Iterable<SourceRecord> => generated;
    await produceRecords(kafka, input, records());

    const raw = await rawConsume(kafka, input, events);
    const variants: Variant[] = [];
    for (const ms of pauseAfter) {
      const replay = await replayRun(base, records, events);
      const scoring = await detectorRun(base, input, events, ms);
      const learning = await detectorRun(benchConfig(brokers, backend, 1, hwm), input, events, ms);
      variants.push({
        pauseAfterMs: ms,
        replay,
        scoring,
        learning,
        latency: { latencies: [], fetchPauses: 0 },
      });
    }
    for (const v of variants) {
      v.latency = await latencyRun(brokers, backend, { rate, seconds, highWaterMark: hwm }, v.pauseAfterMs);
    }
    report({ events, backend, hwm, rate, seconds, raw, variants, loads: [loadAtStart, load()] });
  } finally {
    await broker?.stop();
  }
}

interface Report {
  readonly events: number;
  readonly backend: string;
  readonly hwm: number;
  readonly rate: number;
  readonly seconds: number;
  readonly raw: Timed;
  readonly variants: readonly Variant[];
  readonly loads: readonly [string, string];
}

function report(r: Report): void {
  const rateOf = (ms: number): number => (r.events * 1000) / ms;
  const row = (name: string, { ms, cpuMs }: Timed, replay?: Timed, job?: JobRun): string[] => {
    return [
      name,
      formatRate(rateOf(ms)),
      formatRate(rateOf(cpuMs)),
      (r.raw.ms / ms).toFixed(2),
      replay ? (replay.ms / ms).toFixed(2) : '-',
      replay ? (replay.cpuMs / cpuMs).toFixed(2) : '-',
      job ? String(job.anomalies) : '-',
      job ? String(job.fetchPauses) : '-',
      job ? String(job.commits) : '-',
    ];
  };
  const rows = [
    row('raw kafkajs consume (baseline: fetch + decode only)', r.raw),
    ...r.variants.flatMap((v) => [
      row(`replay path, scoring only (no Kafka), before ${variantName(v.pauseAfterMs)}`, v.replay),
      row(`Kafka job, scoring only, ${variantName(v.pauseAfterMs)}`, v.scoring, v.replay, v.scoring),
      row(`Kafka job, scoring + learning, ${variantName(v.pauseAfterMs)}`, v.learning, v.replay, v.learning),
    ]),
  ];
  const out = (s: string): boolean => process.stdout.write(s);
  out(
    `\nThroughput, ${r.events.toLocaleString('en-US')} pre-produced events, ${PARTITIONS} partitions, backend ${r.backend}, highWaterMark ${r.hwm}; load average (1/5/15 min) ${r.loads[0]} at start, ${r.loads[1]} at end\n\n`,
  );
  const header = [
    'run',
    'events/s',
    'events/CPU-s',
    'vs raw',
    'vs replay',
    'vs replay (CPU)',
    'anomalies',
    'fetch pauses',
    'commits',
  ];
  out(`${markdownTable(header, rows)}\n`);
  out(
    `\nLatency produce → scored event published, ${formatRate(r.rate)} events/s offered for ${r.seconds} s, learning on (first ${WARMUP_EVENTS} events skipped)\n\n`,
  );
  const p99Of = (v: Variant): number => quantileSorted(v.latency.latencies, 0.99);
  out(
    `${markdownTable(
      ['run', 'events', 'p50 ms', 'p99 ms', 'max ms', 'fetch pauses'],
      r.variants.map((v) => [
        variantName(v.pauseAfterMs),
        String(v.latency.latencies.length),
        formatMs(quantileSorted(v.latency.latencies, 0.5)),
        formatMs(p99Of(v)),
        formatMs(v.latency.latencies.at(-1) ?? Number.NaN),
        String(v.latency.fetchPauses),
      ]),
    )}\n`,
  );
  const last = r.variants.at(-1);
  if (last === undefined) return;
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  const perEventUs = (cpuMs: number): string => ((1000 * cpuMs) / r.events).toFixed(1);
  const p99 = p99Of(last);
  out(
    `\nTargets (issue 14), ${variantName(last.pauseAfterMs)}\n\n${markdownTable(
      ['target', 'measured', ''],
      [
        [
          'Kafka scoring only ≥ 80% of the replay path (wall)',
          `${((100 * last.replay.ms) / last.scoring.ms).toFixed(0)}%`,
          verdict(last.replay.ms / last.scoring.ms >= 0.8),
        ],
        [
          'Kafka scoring only ≥ 80% of the replay path (CPU time)',
          `${((100 * last.replay.cpuMs) / last.scoring.cpuMs).toFixed(0)}%`,
          verdict(last.replay.cpuMs / last.scoring.cpuMs >= 0.8),
        ],
        [
          `p99 produce→published ≤ 250 ms at ${formatRate(r.rate)} ev/s, learning on`,
          `${formatMs(p99)} ms`,
          verdict(p99 <= 250),
        ],
        ['Kafka scoring only vs raw consume', `${((100 * r.raw.ms) / last.scoring.ms).toFixed(0)}%`, '-'],
        [
          'Kafka plumbing per event (job − replay, CPU) / kafkajs consume alone (CPU)',
          `${perEventUs(last.scoring.cpuMs - last.replay.cpuMs)} µs / ${perEventUs(r.raw.cpuMs)} µs`,
          '-',
        ],
      ],
    )}\n`,
  );
}

await main();
