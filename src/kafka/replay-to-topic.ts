import type { Message } from 'kafkajs';
import { FlowsentinelError, InvalidOptionError } from '../errors.js';
import { readRecordFile } from '../streams/replay-source.js';
import type { SourceRecord } from '../streams/types.js';
import type { KafkaClient } from './client.js';
import { KafkaError } from './errors.js';
import { toReplayMessage } from './messages.js';
import { SharedProducer } from './producer.js';

/** How replayed records are spread over the target's partitions. */
export type ReplayPartitioning = 'auto' | 'preserve' | 'key';

/** Options of `replayToTopic`. */
export interface ReplayToTopicOptions {
  readonly kafka: KafkaClient;
  /** Recorded-topic JSONL file (docs/recorded-format.md), e.g. written by `recordTopic`. */
  readonly file: string;
  /** Existing target topic. */
  readonly topic: string;
  /**
   * 'preserve': each record goes to its recorded partition; 'key': the Java-compatible hash of its key
   * (round robin without key); 'auto' (default): preserve when the target has more partitions than the
   * highest recorded partition number, else key.
   */
  readonly partitioning?: ReplayPartitioning;
  /** Messages per produce request. Default 500. */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
}

export interface ReplayToTopicResult {
  readonly records: number;
  /** What 'auto' resolved to. */
  readonly partitioning: 'preserve' | 'key';
  readonly targetPartitions: number;
}

async function targetPartitions(kafka: KafkaClient, topic: string): Promise<number> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) {
      throw new KafkaError(
        `target topic ${topic} does not exist; create it first (with as many partitions as the recording)`,
        'config',
        {
          context: { topic },
        },
      );
    }
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length ?? 0;
  } catch (err) {
    throw err instanceof FlowsentinelError ? err : kafka.error(err, `reading metadata of ${topic}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function highestPartition(file: string): Promise<number> {
  let max = -1;
  for await (const record of readRecordFile({ path: file })) max = Math.max(max, record.partition);
  return max;
}

/** Options of `produceRecords`. */
export interface ProduceRecordsOptions {
  /** 'preserve' (default): each record's own partition; 'key': partition from the key. */
  readonly partitioning?: 'preserve' | 'key';
  /** Messages per produce request. Default 500. */
  readonly batchSize?: number;
}

/**
 * Produces records (key, value, headers, timestamp; partition unless `partitioning: 'key'`) to `topic` in
 * iteration order through an idempotent producer, so each partition keeps its order. Resolves with the
 * count once the broker acknowledged everything. Offsets are assigned by the target.
 */
export async function produceRecords(
  kafka: KafkaClient,
  topic: string,
  records: Iterable<SourceRecord> | AsyncIterable<SourceRecord>,
  options: ProduceRecordsOptions = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  const preserve = (options.partitioning ?? 'preserve') === 'preserve';
  const producer = (await SharedProducer.connect(kafka, { maxMessagesPerRequest: batchSize })).retain();
  let count = 0;
  try {
    let buffer: Message[] = [];
    for await (const record of records) {
      buffer.push(toReplayMessage(record, preserve ? record.partition : undefined));
      if (buffer.length >= batchSize) {
        await producer.send(topic, buffer);
        count += buffer.length;
        buffer = [];
      }
    }
    if (buffer.length > 0) {
      await producer.send(topic, buffer);
      count += buffer.length;
    }
  } finally {
    await producer.release();
  }
  return count;
}

/**
 * Produces a recording into `topic`, preserving each record's key, value, headers and timestamp (and its
 * partition, see `partitioning`), in file order through the idempotent producer, so partition order is
 * kept. Offsets are assigned by the target. Note: with CreateTime topics, old timestamps age out under
 * the topic's `retention.ms` (set `retention.ms=-1` on a topic meant to keep an old recording).
 */
export async function replayToTopic(options: ReplayToTopicOptions): Promise<ReplayToTopicResult> {
  const { kafka, file, topic } = options;
  const batchSize = options.batchSize ?? 500;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new InvalidOptionError(`replayToTopic: batchSize must be a positive integer, got ${batchSize}`);
  }
  const requested = options.partitioning ?? 'auto';
  if (!['auto', 'preserve', 'key'].includes(requested)) {
    throw new InvalidOptionError(
      `replayToTopic: partitioning must be auto, preserve or key, got ${String(requested)}`,
    );
  }
  const partitions = await targetPartitions(kafka, topic);
  const highest = await highestPartition(file);
  if (requested === 'preserve' && highest >= partitions) {
    throw new InvalidOptionError(
      `replayToTopic: the recording uses partition ${highest} but ${topic} has ${partitions}; use partitioning 'key' or add partitions`,
    );
  }
  const mode = requested === 'auto' ? (highest < partitions ? 'preserve' : 'key') : requested;
  const records = await produceRecords(kafka, topic, readRecordFile({ path: file }, options.signal), {
    partitioning: mode,
    batchSize,
  });
  return { records, partitioning: mode, targetPartitions: partitions };
}
