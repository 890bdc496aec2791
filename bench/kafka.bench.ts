/**
 * Kafka throughput and latency against a real broker: the raw kafkajs consume rate of a pre-produced
 * topic (baseline), flowsentinel end to end (KafkaSource → detector → KafkaSinks, commits on) scoring
 * only and with online learning, their ratio to the baseline, and p50/p99 latency from produce to the
 * scored event being published, at a fixed offered load. Not a test: no assertions; numbers depend on
 * the machine and its load.
 *
 *   npm run bench:kafka -- [--quick] [--events=N] [--rate=5000] [--seconds=N] [--backend=wasm|cpu]
 *
 * Uses KAFKA_BROKERS when set, else starts a local broker (scripts/kafka/broker.ts).
 */

import { performance } from 'node:perf_hooks';
import type { Admin } from 'kafkajs';
import { type KafkaBroker, startKafkaBroker } from '../scripts/kafka/broker.js';
import { type AppConfig, loadConfig } from '../src/config/index.js';
import { runDetectorJob } from '../src/job/run.js';
import {
  createKafka,
  createKafkaSinks,
  type KafkaClient,
  KafkaSource,
  produceRecords,
  readTopic,
  toReplayMessage,
} from '../src/kafka/index.js';
import { createLogger } from '../src/logging.js';
import { AckTracker } from '../src/streams/acks.js';
import { generateRecords } from '../src/streams/generator-source.js';
import type { ScoredEvent, SourceRecord } from '../src/streams/types.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { rawConsume, replayRun } from './lib/kafka-runs.js';
import { formatMs, formatRate, markdownTable, quantileSorted } from './lib/stats.js';

const FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'];
const PARTITIONS = 4;
const WARMUP_EVENTS = 2000;
const logger = createLogger({ level: 'warn', destination: process.stderr });
let topicCounter = 0;
const topicName = (what: string): string => `bench-${what}-${Date.now().toString(36)}-${++topicCounter}`;

/** `--hwm=N` (batching.highWaterMark) and `--pause-after-ms=N` (KafkaSource pauseAfterMs; 0 = the old pause at every full gate). */
const tuning = { hwm: 4096, pauseAfterMs: undefined as number | undefined };

function benchConfig(brokers: string[], backend: string, stepsPerBatch: number, scores?: string): AppConfig {
  return loadConfig({
    env: {},
    overrides: {
      backend: backend as AppConfig['backend'],
      features: { fields: FIELDS },
      model: { type: 'realnvp', layers: 4, hidden: 32 },
      training: { stepsPerBatch, batchSize: 256 },
      warmup: { events: WARMUP_EVENTS },
      threshold: { policy: 'quantile', quantile: 0.01 },
      batching: { maxSize: 256, maxWaitMs: 20, highWaterMark: tuning.hwm },
      metrics: { enabled: false },
      kafka: {
        brokers,
        clientId: 'flowsentinel-bench',
        outputs: {
          anomalies: topicName('anomalies'),
          deadLetters: topicName('dlq'),
          drift: topicName('drift'),
          ...(scores ? { scores } : {}),
        },
      },
    },
  });
}

async function createTopics(admin: Admin, topics: readonly string[], partitions = PARTITIONS): Promise<void> {
  await admin.createTopics({
    topics: topics.map((topic) => ({
      topic,
      numPartitions: partitions,
      configEntries: [{ name: 'retention.ms', value: '-1' }],
    })),
    waitForLeaders: true,
  });
}

interface JobRun {
  /** ms from group join until `count` records were acknowledged. */
  readonly ms: number;
  readonly anomalies: number;
}

/** flowsentinel end to end over `topic` until `count` records are acknowledged, then a graceful stop. */
async function detectorRun(
  config: AppConfig,
  topic: string,
  count: number,
  onJoined?: () => void,
): Promise<JobRun> {
  const kafka = createKafka(config.kafka, { logger });
  const admin = kafka.admin();
  await admin.connect();
  await createTopics(
    admin,
    Object.values(config.kafka.outputs).filter((t): t is string => t !== undefined),
    2,
  );
  await admin.disconnect();
  const acks = new AckTracker();
  let joinedAt = 0;
  const source = new KafkaSource({
    client: kafka,
    groupId: topicName('group'),
    topics: [topic],
    start: 'earliest',
    acks,
    ...(tuning.pauseAfterMs === undefined ? {} : { pauseAfterMs: tuning.pauseAfterMs }),
    observer: {
      groupJoin: () => {
        joinedAt = performance.now();
        onJoined?.();
      },
    },
  });
  const sinks = await createKafkaSinks(kafka, config.kafka.outputs);
  const stop = new AbortController();
  let processed = 0;
  let finishedAt = 0;
  const progress = (n: number): void => {
    processed += n;
    if (processed >= count && finishedAt === 0) {
      finishedAt = performance.now();
      stop.abort();
    }
  };
  try {
    const result = await runDetectorJob({
      config,
      logger,
      source,
      sinks,
      acks,
      serveMetrics: false,
      signal: stop.signal,
      onBatch: (info) => progress(info.results.length),
      onDeadLetter: () => progress(1),
    });
    result.parts.dispose();
    return { ms: finishedAt - joinedAt, anomalies: result.summary.anomalies };
  } finally {
    await source.close();
    await sinks.close();
  }
}

/** Produces `rate` events/s for `seconds`, each stamped with its send time; resolves with the count. */
async function offerLoad(kafka: KafkaClient, topic: string, rate: number, seconds: number): Promise<number> {
  // A plain (not idempotent) producer: the idempotent one serialises sends behind a per-partition lock,
  // and on a loaded machine hundreds of queued ticks ran into KafkaJSLockTimeout.
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const tickMs = 10;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const ticks = Math.round((seconds * 1000) / tickMs);
  const source = generateRecords({
    seed: 99,
    count: perTick * ticks,
    fields: FIELDS,
    partitions: PARTITIONS,
    entities: 64,
  });
  const sends: Promise<void>[] = [];
  const start = performance.now();
  for (let k = 0; k < ticks; k++) {
    const wait = start + k * tickMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const now = Date.now();
    const chunk: SourceRecord[] = [];
    for (let i = 0; i < perTick; i++) {
      const next = source.next();
      if (!next.done) chunk.push({ ...next.value, timestamp: now });
    }
    sends.push(
      producer
        .send({ topic, acks: 1, messages: chunk.map((r) => toReplayMessage(r, r.partition)) })
        .then(() => undefined),
    );
  }
  await Promise.all(sends);
  await producer.disconnect();
  return perTick * ticks;
}

/** Latency produce → scored event published (output CreateTime − input timestamp), after warm-up. */
async function latencyRun(
  brokers: string[],
  backend: string,
  rate: number,
  seconds: number,
): Promise<number[]> {
  const input = topicName('latency-in');
  const scores = topicName('latency-scores');
  const config = benchConfig(brokers, backend, 1, scores);
  const kafka = createKafka(config.kafka, { logger });
  const admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, [input]);
  await admin.disconnect();
  let joined: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    joined = resolve;
  });
  const expected = Math.max(1, Math.round((rate * 10) / 1000)) * Math.round((seconds * 1000) / 10);
  const run = detectorRun(config, input, expected, () => joined());
  await ready;
  await offerLoad(kafka, input, rate, seconds);
  await run;
  const published = await readTopic({ kafka, topic: scores });
  return published
    .map((r) => {
      const event = JSON.parse(Buffer.from(r.value ?? new Uint8Array()).toString('utf8')) as ScoredEvent;
      return { index: event.timestamp, latency: r.timestamp - event.timestamp };
    })
    .sort((a, b) => a.index - b.index)
    .slice(WARMUP_EVENTS)
    .map((x) => x.latency)
    .sort((a, b) => a - b);
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
  tuning.hwm = numberArg(args, 'hwm', 4096);
  const pauseAfter = args.values.get('pause-after-ms');
  if (pauseAfter !== undefined) tuning.pauseAfterMs = Number(pauseAfter); // KafkaSource validates it
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
  try {
    const base = benchConfig(brokers, backend, 0);
    const kafka = createKafka(base.kafka, { logger });
    const admin = kafka.admin();
    await admin.connect();
    const input = topicName('in');
    await createTopics(admin, [input]);
    await admin.disconnect();
    const records = (): Iterable<SourceRecord> =>
      generateRecords({
        seed: 1,
        count: events,
        fields: FIELDS,
        partitions: PARTITIONS,
        entities: 64,
        topic: input,
      });
    await produceRecords(kafka, input, records());

    const rawMs = await rawConsume(kafka, input, events);
    const replayMs = await replayRun(base, records, events);
    const scoring = await detectorRun(base, input, events);
    const learning = await detectorRun(benchConfig(brokers, backend, 1), input, events);
    const rateOf = (ms: number): number => (events * 1000) / ms;
    const row = (name: string, ms: number, anomalies: string): string[] => [
      name,
      formatRate(rateOf(ms)),
      (rawMs / ms).toFixed(2),
      (replayMs / ms).toFixed(2),
      anomalies,
    ];
    const rows = [
      row('raw kafkajs consume (baseline)', rawMs, '-'),
      row('replay path, scoring only (no Kafka)', replayMs, '-'),
      row('flowsentinel, scoring only', scoring.ms, String(scoring.anomalies)),
      row('flowsentinel, scoring + learning', learning.ms, String(learning.anomalies)),
    ];
    process.stdout.write(
      `\nThroughput, ${events.toLocaleString('en-US')} pre-produced events, ${PARTITIONS} partitions, backend ${backend}, highWaterMark ${tuning.hwm}, pauseAfterMs ${tuning.pauseAfterMs ?? 'default'}\n\n`,
    );
    process.stdout.write(`${markdownTable(['run', 'events/s', 'vs raw', 'vs replay', 'anomalies'], rows)}\n`);

    const latencies = await latencyRun(brokers, backend, rate, seconds);
    process.stdout.write(
      `\nLatency produce → scored event published, ${formatRate(rate)} events/s offered for ${seconds} s (first ${WARMUP_EVENTS} events skipped)\n\n`,
    );
    const p99 = quantileSorted(latencies, 0.99);
    process.stdout.write(
      `${markdownTable(
        ['events', 'p50 ms', 'p99 ms', 'max ms'],
        [
          [
            String(latencies.length),
            formatMs(quantileSorted(latencies, 0.5)),
            formatMs(p99),
            formatMs(latencies.at(-1) ?? Number.NaN),
          ],
        ],
      )}\n`,
    );
    const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
    process.stdout.write(
      `\nTargets (issue 14)\n\n${markdownTable(
        ['target', 'measured', ''],
        [
          [
            'Kafka scoring only ≥ 80% of the replay path',
            `${((100 * replayMs) / scoring.ms).toFixed(0)}%`,
            verdict(replayMs / scoring.ms >= 0.8),
          ],
          [
            `p99 produce→published ≤ 250 ms at ${formatRate(rate)} ev/s, learning on`,
            `${formatMs(p99)} ms`,
            verdict(p99 <= 250),
          ],
          ['Kafka scoring only vs raw consume', `${((100 * rawMs) / scoring.ms).toFixed(0)}%`, '-'],
        ],
      )}\n`,
    );
  } finally {
    await broker?.stop();
  }
}

await main();
