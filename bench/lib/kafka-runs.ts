import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { Admin } from 'kafkajs';
import { createTopicsReady } from '../../scripts/kafka/readiness.js';
import { type AppConfig, loadConfig } from '../../src/config/index.js';
import { runDetectorJob } from '../../src/job/run.js';
import {
  createKafka,
  type KafkaClient,
  produceRecords,
  readTopic,
  toReplayMessage,
} from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging.js';
import { AckTracker } from '../../src/streams/acks.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import { MemorySink } from '../../src/streams/sinks.js';
import { iterableSource } from '../../src/streams/source.js';
import type { DeadLetter, ScoredEvent, Sink, SourceRecord } from '../../src/streams/types.js';
import { CURRENT, type KafkaImpl } from './kafka-before.js';

const logger = createLogger({ level: 'warn', destination: process.stderr });
export const FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'];
export const PARTITIONS = 4;
export const WARMUP_EVENTS = 2000;
let topicCounter = 0;
/** This process's CPU time (user + system), ms. */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Main-thread GC pauses so far, ms (entries arrive a tick late: a run's last pauses may be missed). */
let gcTotalMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcTotalMs += e.duration;
}).observe({ entryTypes: ['gc'] });

/** Wall and process CPU time of a run, ms, and the GC pauses in it. */
export interface Timed {
  readonly ms: number;
  readonly cpuMs: number;
  readonly gcMs?: number;
}
export const topicName = (what: string): string =>
  `bench-${what}-${Date.now().toString(36)}-${++topicCounter}`;

/** The job's config for the bench: RealNVP 4 × 32, d = 6, micro-batches ≤ 256 / 20 ms. */
export function benchConfig(
  brokers: string[],
  backend: string,
  stepsPerBatch: number,
  highWaterMark: number,
  scores?: string,
): AppConfig {
  return loadConfig({
    env: {},
    overrides: {
      backend: backend as AppConfig['backend'],
      features: { fields: FIELDS },
      model: { type: 'realnvp', layers: 4, hidden: 32 },
      training: { stepsPerBatch, batchSize: 256 },
      warmup: { events: WARMUP_EVENTS },
      threshold: { policy: 'quantile', quantile: 0.01 },
      batching: { maxSize: 256, maxWaitMs: 20, highWaterMark },
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

export async function createTopics(
  admin: Admin,
  topics: readonly string[],
  partitions = PARTITIONS,
): Promise<void> {
  await createTopicsReady(
    admin,
    topics.map((topic) => ({
      topic,
      numPartitions: partitions,
      configEntries: [{ name: 'retention.ms', value: '-1' }],
    })),
  );
}

/**
 * A fresh input topic (`topicName(what)`, PARTITIONS partitions) holding the benches' stream: `events`
 * generated records (seed 1, FIELDS, 64 entities), generated once before any timing and produced.
 */
export async function producedInput(
  kafka: KafkaClient,
  what: string,
  events: number,
): Promise<{ readonly input: string; readonly generated: readonly SourceRecord[] }> {
  const admin = kafka.admin();
  await admin.connect();
  const input = topicName(what);
  try {
    await createTopics(admin, [input]);
  } finally {
    await admin.disconnect();
  }
  const generated = [
    ...generateRecords({
      seed: 1,
      count: events,
      fields: FIELDS,
      partitions: PARTITIONS,
      entities: 64,
      topic: input,
    }),
  ];
  await produceRecords(kafka, input, generated);
  return { input, generated };
}

/**
 * Baseline: a bare kafkajs consumer group reading `count` records (fetch and decode only); wall and CPU
 * time from group join to the last record.
 */
export async function rawConsume(kafka: KafkaClient, topic: string, count: number): Promise<Timed> {
  const consumer = kafka.consumer({
    groupId: `bench-raw-group-${Date.now().toString(36)}`,
    maxWaitTimeInMs: 100,
  });
  let joinedAt = 0;
  let cpuAtJoin = 0;
  let seen = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joinedAt = performance.now();
    cpuAtJoin = cpuMs();
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<Timed>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        seen += batch.messages.length;
        if (seen >= count) resolve({ ms: performance.now() - joinedAt, cpuMs: cpuMs() - cpuAtJoin });
        await heartbeat();
      },
    });
  });
  const timed = await done;
  await consumer.disconnect();
  return timed;
}

/**
 * Counts processed records; at `count` it notes the wall and CPU time (ms; 0 until then) and aborts
 * `stop`, so a run is timed to its last record rather than to its shutdown.
 */
function finishLine(count: number) {
  const stop = new AbortController();
  const finish = { wallMs: 0, cpuMs: 0, gcMs: 0, elu: performance.eventLoopUtilization() };
  let processed = 0;
  const progress = (n: number): void => {
    processed += n;
    if (processed >= count && finish.wallMs === 0) {
      finish.wallMs = performance.now();
      finish.cpuMs = cpuMs();
      finish.gcMs = gcTotalMs;
      finish.elu = performance.eventLoopUtilization();
      stop.abort();
    }
  };
  return { stop, progress, finish };
}

/** Replay-path sinks that answer like a remote broker: each write resolves `delayMs` later, CPU-free. */
export interface SlowSinks {
  readonly delayMs: number;
  readonly writesInFlight: number;
}

/** A sink whose writes resolve after `delayMs` (a simulated produce round trip), keeping nothing. */
function delayed(delayMs: number): Sink<ScoredEvent> {
  return {
    write: () => new Promise<void>((resolve) => setTimeout(resolve, delayMs)),
    close: () => Promise.resolve(),
  };
}

/**
 * The same job and records without Kafka: an in-memory source (generated, not read from a file) and
 * in-memory sinks. ms from the first read of the source until `count` records were acknowledged, as the
 * Kafka runs are timed from the group join: both include the detector's warm-up, not its set-up.
 */
export async function replayRun(
  config: AppConfig,
  records: () => Iterable<SourceRecord>,
  count: number,
  slow?: SlowSinks,
): Promise<Timed> {
  const { stop, progress, finish } = finishLine(count);
  // Timed from the first read of the source, like the Kafka runs from the group join (model set-up excluded).
  let startedAt = performance.now();
  let cpuAtStart = cpuMs();
  let gcAtStart = gcTotalMs;
  const timedRecords = (): Iterable<SourceRecord> => {
    startedAt = performance.now();
    cpuAtStart = cpuMs();
    gcAtStart = gcTotalMs;
    return records();
  };
  const result = await runDetectorJob({
    config,
    logger,
    source: iterableSource(timedRecords),
    sinks: slow
      ? { anomalies: delayed(slow.delayMs), scores: delayed(slow.delayMs), deadLetters: new MemorySink() }
      : { anomalies: new MemorySink<ScoredEvent>(), deadLetters: new MemorySink<DeadLetter>() },
    ...(slow ? { writesInFlight: slow.writesInFlight } : {}),
    serveMetrics: false,
    signal: stop.signal,
    onBatch: (info) => progress(info.results.length),
    onDeadLetter: () => progress(1),
  });
  result.parts.dispose();
  return {
    ms: (finish.wallMs || performance.now()) - startedAt,
    cpuMs: (finish.cpuMs || cpuMs()) - cpuAtStart,
    gcMs: (finish.gcMs || gcTotalMs) - gcAtStart,
  };
}

/** One flowsentinel run over Kafka. */
export interface JobRun extends Timed {
  /** ms from group join until `count` records were acknowledged (`cpuMs`: this process's CPU meanwhile). */
  readonly ms: number;
  readonly anomalies: number;
  /** Times the source paused fetching (`KafkaSource.stats.fetchPauses`). */
  readonly fetchPauses: number;
  /** Offset commits sent. */
  readonly commits: number;
  /** Micro-batches the detector processed. */
  readonly batches: number;
  /** Share of the run's wall time the event loop was busy (not waiting for I/O or timers). */
  readonly busy: number;
}

/** What a Kafka row varies: source and pipeline settings, and which `src/kafka` runs (default this one). */
export interface KafkaSetting {
  readonly pauseAfterMs?: number;
  readonly writesInFlight?: number;
  readonly maxBytesPerPartition?: number;
  readonly impl?: KafkaImpl;
}

/** flowsentinel end to end over `topic` until `count` records are acknowledged, then a graceful stop. */
export async function detectorRun(
  config: AppConfig,
  topic: string,
  count: number,
  setting: KafkaSetting,
  onJoined?: () => void,
): Promise<JobRun> {
  const { pauseAfterMs, writesInFlight, maxBytesPerPartition } = setting;
  const impl = setting.impl ?? CURRENT;
  const kafka = impl.createKafka(config.kafka, { logger });
  const admin = kafka.admin();
  await admin.connect();
  const outputs = Object.values(config.kafka.outputs).filter((t): t is string => t !== undefined);
  await createTopics(admin, outputs, 2);
  await admin.disconnect();
  const acks = new AckTracker();
  let joinedAt = 0;
  let cpuAtJoin = 0;
  let gcAtJoin = 0;
  let eluAtJoin = performance.eventLoopUtilization();
  const source = new impl.KafkaSource({
    client: kafka,
    groupId: topicName('group'),
    topics: [topic],
    start: 'earliest',
    acks,
    ...(pauseAfterMs === undefined ? {} : { pauseAfterMs }),
    ...(maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition }),
    observer: {
      groupJoin: () => {
        joinedAt = performance.now();
        cpuAtJoin = cpuMs();
        gcAtJoin = gcTotalMs;
        eluAtJoin = performance.eventLoopUtilization();
        onJoined?.();
      },
    },
  });
  const sinks = await impl.createKafkaSinks(kafka, config.kafka.outputs);
  const { stop, progress, finish } = finishLine(count);
  try {
    const result = await runDetectorJob({
      config,
      logger,
      source,
      sinks,
      acks,
      serveMetrics: false,
      ...(writesInFlight === undefined ? {} : { writesInFlight }),
      signal: stop.signal,
      onBatch: (info) => progress(info.results.length),
      onDeadLetter: () => progress(1),
    });
    result.parts.dispose();
    const { fetchPauses, commits } = source.stats;
    return {
      ms: finish.wallMs - joinedAt,
      cpuMs: finish.cpuMs - cpuAtJoin,
      gcMs: finish.gcMs - gcAtJoin,
      anomalies: result.summary.anomalies,
      batches: result.summary.batches,
      busy: performance.eventLoopUtilization(finish.elu, eluAtJoin).utilization,
      fetchPauses,
      commits,
    };
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

/**
 * Latency produce → scored event published (output CreateTime − input timestamp), after warm-up, with
 * learning on (one training step per micro-batch) and every scored event written to a scores topic.
 */
export async function latencyRun(
  brokers: string[],
  backend: string,
  load: { readonly rate: number; readonly seconds: number; readonly highWaterMark: number },
  setting: KafkaSetting,
): Promise<{ latencies: number[]; fetchPauses: number; batches: number; busy: number }> {
  const input = topicName('latency-in');
  const scores = topicName('latency-scores');
  const config = benchConfig(brokers, backend, 1, load.highWaterMark, scores);
  const kafka = createKafka(config.kafka, { logger });
  const admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, [input]);
  await admin.disconnect();
  let joined: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    joined = resolve;
  });
  const perTick = Math.max(1, Math.round((load.rate * 10) / 1000));
  const expected = perTick * Math.round((load.seconds * 1000) / 10);
  const run = detectorRun(config, input, expected, setting, () => joined());
  await ready;
  await offerLoad(kafka, input, load.rate, load.seconds);
  const { fetchPauses, batches, busy } = await run;
  const published = await readTopic({ kafka, topic: scores });
  const latencies = published
    .map((r) => {
      const event = JSON.parse(Buffer.from(r.value ?? new Uint8Array()).toString('utf8')) as ScoredEvent;
      return { index: event.timestamp, latency: r.timestamp - event.timestamp };
    })
    .sort((a, b) => a.index - b.index)
    .slice(WARMUP_EVENTS)
    .map((x) => x.latency)
    .sort((a, b) => a - b);
  return { latencies, fetchPauses, batches, busy };
}
