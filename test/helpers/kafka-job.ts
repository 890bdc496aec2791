/**
 * Shared set-up of the Kafka job tests against the real broker: a connected client and admin, the job's
 * topics, seeded input records, committed offsets and "fully committed" checks, outputs counted per input
 * offset (score or dead letter, via the `x-source-*` headers), the `flowsentinel run` CLI (or a script) as
 * a real child process, an in-process pipeline over a `KafkaSource`, and HTTP probes of a job's
 * /readyz and /metrics. Waits are conditions (`waitFor`), never sleeps.
 */
import type { Admin, ITopicConfig } from 'kafkajs';
import { createTopicsReady } from '../../scripts/kafka/readiness.js';
import { loadConfig } from '../../src/config/index.js';
import {
  createKafka,
  createKafkaSinks,
  type KafkaClient,
  type KafkaSinks,
  KafkaSource,
  OUTPUT_HEADERS,
  readTopic,
} from '../../src/kafka/index.js';
import type { KafkaSourceOptions } from '../../src/kafka/source-types.js';
import { createLogger } from '../../src/logging.js';
import { AckTracker } from '../../src/streams/acks.js';
import { createFeatureSpec } from '../../src/streams/feature-spec.js';
import { type PipelineHandle, type PipelineSummary, runPipeline } from '../../src/streams/pipeline.js';
import type { BatchDetector, SourceRecord } from '../../src/streams/types.js';
import { kafkaBrokers, uniqueKafkaName } from './kafka.js';
import { waitFor } from './test-detectors.js';

export { freePort } from './prom-server.js';
export { waitFor };

/** UTF-8 text of header/key bytes ('' when absent). */
export const text = (bytes: Uint8Array | null | undefined): string =>
  bytes === null || bytes === undefined ? '' : Buffer.from(bytes).toString('utf8');

/** `partition/offset` of the input record an output was made from (its `x-source-*` headers). */
export const sourceRef = (r: SourceRecord): string =>
  `${text(r.headers[OUTPUT_HEADERS.sourcePartition])}/${text(r.headers[OUTPUT_HEADERS.sourceOffset])}`;

/** A connected client and admin for one test file; `close()` disconnects the admin. */
export interface KafkaTestContext {
  readonly brokers: string[];
  readonly kafka: KafkaClient;
  readonly admin: Admin;
  close(): Promise<void>;
}

/** Connects to `brokers` (default: KAFKA_BROKERS or the shared local broker). */
export async function connectTestKafka(brokers?: string[]): Promise<KafkaTestContext> {
  const list = brokers ?? (await kafkaBrokers());
  const config = loadConfig({
    env: {},
    overrides: { features: { fields: ['a'] }, kafka: { brokers: list } },
  });
  const kafka = createKafka(config.kafka, {
    logger: createLogger({ level: 'warn', destination: process.stderr }),
  });
  const admin = kafka.admin();
  await admin.connect();
  return { brokers: list, kafka, admin, close: () => admin.disconnect() };
}

/** Output topic names of a job (`scores` only when asked for). */
export interface JobOutputs {
  readonly anomalies: string;
  readonly scores?: string;
  readonly deadLetters: string;
  readonly drift: string;
}

/** Input and output topic names of one job. */
export interface JobTopics {
  readonly input: string;
  readonly outputs: JobOutputs;
}

/** Job topics with a scores topic. */
export interface ScoredJobTopics extends JobTopics {
  readonly outputs: JobOutputs & { readonly scores: string };
}

/** Unique topic names `<prefix>-in`, `-anomalies`, `-scores` (unless `scores: false`), `-dlq`, `-drift`. */
export function jobTopicNames(prefix: string): ScoredJobTopics;
export function jobTopicNames(prefix: string, opts: { scores: false }): JobTopics;
export function jobTopicNames(prefix: string, opts: { scores?: boolean } = {}): JobTopics {
  const base = {
    anomalies: uniqueKafkaName(`${prefix}-anomalies`),
    deadLetters: uniqueKafkaName(`${prefix}-dlq`),
    drift: uniqueKafkaName(`${prefix}-drift`),
  };
  const outputs = opts.scores === false ? base : { ...base, scores: uniqueKafkaName(`${prefix}-scores`) };
  return { input: uniqueKafkaName(`${prefix}-in`), outputs };
}

/** Options of {@link createJobTopics}. */
export interface CreateJobTopicsOptions {
  readonly inputPartitions: number;
  /** Default 1. */
  readonly outputPartitions?: number;
  /** `retention.ms=-1` on every topic (old event times are kept). Default false. */
  readonly keepForever?: boolean;
  /** Extra topic configs by topic name. */
  readonly configs?: Readonly<Record<string, ITopicConfig['configEntries']>>;
}

/** Creates the input and output topics and waits for their leaders. */
export async function createJobTopics(admin: Admin, t: JobTopics, o: CreateJobTopicsOptions): Promise<void> {
  const retention = o.keepForever === true ? [{ name: 'retention.ms', value: '-1' }] : [];
  const outputs = Object.values(t.outputs).filter((x): x is string => x !== undefined);
  await createTopicsReady(
    admin,
    [t.input, ...outputs].map((topic) => ({
      topic,
      numPartitions: topic === t.input ? o.inputPartitions : (o.outputPartitions ?? 1),
      configEntries: [...retention, ...(o.configs?.[topic] ?? [])],
    })),
  );
}

/**
 * Records i = from … from+count−1 with features `a` = sin i, `b` = cos i, key `k${i mod 5}`, partition
 * i mod `partitions` (so record i gets offset ⌊i / partitions⌋ in a fresh topic) and event time
 * `now + i` (recent: the broker deletes records older than its 7-day default retention).
 */
export function sinCosRecords(
  topic: string,
  from: number,
  count: number,
  partitions: number,
  now = Date.now(),
): SourceRecord[] {
  const enc = new TextEncoder();
  return Array.from({ length: count }, (_, j) => {
    const i = from + j;
    return {
      topic,
      partition: i % partitions,
      offset: '0',
      timestamp: now + i,
      key: enc.encode(`k${i % 5}`),
      headers: {},
      value: enc.encode(JSON.stringify({ a: Math.sin(i), b: Math.cos(i) })),
    };
  });
}

/** `partition/offset` of the i-th record of {@link sinCosRecords} in a fresh topic. */
export const roundRobinRef = (i: number, partitions: number): string =>
  `${i % partitions}/${Math.floor(i / partitions)}`;

/** Per partition: the group's committed offset (none → 0). */
export async function committedOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map(
    (committed?.partitions ?? []).map((p) => [p.partition, BigInt(Math.max(0, Number(p.offset)))]),
  );
}

/** True once the group committed every partition of `topic` up to its end offset. */
export async function fullyCommitted(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const ends = await admin.fetchTopicOffsets(topic);
  const committed = await committedOffsets(admin, groupId, topic);
  return ends.every((e) => committed.get(e.partition) === BigInt(e.high));
}

/** Sum of a topic's end offsets (records ever written to it). */
export async function endOffsetSum(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

/** Every input ref (`partition/offset`) with how many outputs of `topics` it produced. */
export async function outputCounts(
  kafka: KafkaClient,
  topics: readonly string[],
  into = new Map<string, number>(),
): Promise<Map<string, number>> {
  for (const topic of topics) {
    for (const r of await readTopic({ kafka, topic }))
      into.set(sourceRef(r), (into.get(sourceRef(r)) ?? 0) + 1);
  }
  return into;
}

/** Sum of a metric family's samples in Prometheus text, only lines containing `labels` if given. */
export function metricSample(body: string, name: string, labels = ''): number {
  return body
    .split('\n')
    .filter((l) => l.startsWith(name) && l.includes(labels) && !l.startsWith('#'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** HTTP status and body; status 0 when nothing answered. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * GET `path` of a job's metrics server on `port`. `check` runs first (e.g. throws the job's error or
 * "exited early"), so a wait on the probe fails fast instead of timing out.
 */
export function httpProbe(port: number, check: () => void = () => undefined) {
  return async (path: string): Promise<HttpAnswer> => {
    check();
    const res = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
    return res === undefined ? { status: 0, body: '' } : { status: res.status, body: await res.text() };
  };
}

export { type CliChild, ROOT, startCliRun, startNodeScript } from './kafka-child.js';

/** Options of {@link startPipelineJob}. */
export interface PipelineJobOptions {
  readonly kafka: KafkaClient;
  readonly groupId: string;
  readonly input: string;
  readonly outputs: JobOutputs;
  readonly fields: readonly string[];
  readonly detector: BatchDetector;
  readonly batch: { readonly maxSize: number; readonly maxWaitMs: number };
  readonly highWaterMark: number;
  readonly maxRecordBytes?: number;
  /** KafkaSource options besides client, group, topics, acks (start defaults to 'earliest'). */
  readonly source?: Partial<Omit<KafkaSourceOptions, 'client' | 'groupId' | 'topics' | 'acks'>>;
  readonly onBatch?: (handle: PipelineHandle, acks: AckTracker) => void;
}

/** A pipeline over a real `KafkaSource` and Kafka sinks, in process. */
export interface PipelineJob {
  readonly source: KafkaSource;
  readonly sinks: KafkaSinks;
  readonly handle: PipelineHandle;
  readonly acks: AckTracker;
  /** Stops the pipeline (drain + commit), closes the source and sinks; the pipeline's summary. */
  stop(): Promise<PipelineSummary>;
  /** Closes the source and sinks after the pipeline ended by itself; the pipeline's summary. */
  finish(): Promise<PipelineSummary>;
}

/** Starts `runPipeline` from a new `KafkaSource` on `o.input` to Kafka sinks on `o.outputs`. */
export async function startPipelineJob(o: PipelineJobOptions): Promise<PipelineJob> {
  const acks = new AckTracker();
  const source = new KafkaSource({
    client: o.kafka,
    groupId: o.groupId,
    topics: [o.input],
    start: 'earliest',
    acks,
    ...o.source,
  });
  const sinks = await createKafkaSinks(o.kafka, o.outputs);
  let handle: PipelineHandle | undefined;
  handle = runPipeline({
    source,
    spec: createFeatureSpec({
      fields: [...o.fields],
      ...(o.maxRecordBytes === undefined ? {} : { maxRecordBytes: o.maxRecordBytes }),
    }),
    batch: o.batch,
    detector: o.detector,
    sinks,
    acks,
    highWaterMark: o.highWaterMark,
    ...(o.onBatch === undefined ? {} : { onBatch: () => handle && o.onBatch?.(handle, acks) }),
  });
  handle.done.catch(() => undefined);
  const running = handle;
  const close = async (summary: Promise<PipelineSummary>): Promise<PipelineSummary> => {
    try {
      return await summary;
    } finally {
      await source.close();
      await sinks.close();
    }
  };
  return {
    source,
    sinks,
    handle: running,
    acks,
    stop: () => close(running.stop()),
    finish: () => close(running.done),
  };
}

/** A group id for a test, `<prefix>-group-…`. */
export const groupName = (prefix: string): string => uniqueKafkaName(`${prefix}-group`);
