import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, EachBatchPayload } from 'kafkajs';
import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { FlowsentinelError, InvalidOptionError } from '../errors.js';
import type { SourceRecord } from '../streams/types.js';
import type { KafkaClient } from './client.js';
import { KafkaError } from './errors.js';
import { toSourceRecord } from './messages.js';

/** Options of `consumeTopic`. */
export interface ConsumeTopicOptions {
  readonly kafka: KafkaClient;
  readonly topic: string;
  /** 'earliest' (default): from the oldest retained record; 'latest': only records produced after joining. */
  readonly from?: 'earliest' | 'latest';
  /** Stop after this many records. */
  readonly max?: number;
  /**
   * Keep recording until no record arrived for this long (ms), instead of stopping at the end offsets
   * fetched at start. Required with `from: 'latest'` unless `max` is set.
   */
  readonly untilIdleMs?: number;
  /** Throw-away consumer group (never committed, deleted at the end); default `<clientId>-record-<uuid>`. */
  readonly groupId?: string;
  readonly signal?: AbortSignal;
  readonly scheduler?: SchedulerLike;
  /** Receives each fetched batch of records (at most `max` in total); awaited before fetching on. */
  readonly onRecords: (records: SourceRecord[]) => Promise<void>;
  /** Called after each batch with the running total. */
  readonly onProgress?: (records: number) => void;
}

/** Why reading stopped. */
export type RecordStop = 'max' | 'end-offsets' | 'idle' | 'signal';

export interface ConsumeTopicResult {
  readonly records: number;
  readonly stoppedBy: RecordStop;
}

function validate(o: ConsumeTopicOptions): void {
  if (typeof o.topic !== 'string' || o.topic.length === 0) {
    throw new InvalidOptionError('consumeTopic: topic is required');
  }
  const from = o.from ?? 'earliest';
  if (from !== 'earliest' && from !== 'latest') {
    throw new InvalidOptionError(`consumeTopic: from must be 'earliest' or 'latest', got ${String(from)}`);
  }
  if (o.max !== undefined && (!Number.isSafeInteger(o.max) || o.max < 1)) {
    throw new InvalidOptionError(`consumeTopic: max must be a positive integer, got ${o.max}`);
  }
  if (o.untilIdleMs !== undefined && (!Number.isSafeInteger(o.untilIdleMs) || o.untilIdleMs < 1)) {
    throw new InvalidOptionError(
      `consumeTopic: untilIdleMs must be a positive integer of ms, got ${o.untilIdleMs}`,
    );
  }
  if (from === 'latest' && o.max === undefined && o.untilIdleMs === undefined) {
    throw new InvalidOptionError(
      "consumeTopic: from 'latest' has no end offsets to stop at; give max and/or untilIdleMs (--until-idle)",
    );
  }
}

/** End offsets (high watermarks) per partition now; throws a config KafkaError if the topic is missing. */
async function endOffsets(kafka: KafkaClient, admin: Admin, topic: string): Promise<Map<number, bigint>> {
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic))
      throw new KafkaError(`topic ${topic} does not exist`, 'config', { context: { topic } });
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  } catch (err) {
    throw wrap(kafka, err, `reading end offsets of ${topic}`);
  }
}

/** Wraps non-flowsentinel errors (kafkajs) into a `KafkaError`; flowsentinel errors pass through. */
function wrap(kafka: KafkaClient, err: unknown, action: string): Error {
  return err instanceof FlowsentinelError ? err : kafka.error(err, action);
}

/** One recording: consumer, stop conditions and output file. */
class TopicRecorder {
  records = 0;
  failure: Error | undefined;
  private stopped: RecordStop | null = null;
  private finish: (why: RecordStop) => void = () => undefined;
  readonly finished = new Promise<RecordStop>((resolve) => {
    this.finish = resolve;
  });
  private readonly done = new Set<number>();
  private lastActivity: number;
  private idle: Subscription | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: ConsumeTopicOptions,
    private readonly write: (records: SourceRecord[]) => Promise<void>,
    /** End offsets per partition, or null when recording until idle. */
    private readonly targets: ReadonlyMap<number, bigint> | null,
    private readonly scheduler: SchedulerLike,
  ) {
    this.lastActivity = scheduler.now();
    for (const [p, high] of targets ?? []) if (high === 0n) this.done.add(p);
    if (targets !== null && this.done.size === targets.size) this.stop('end-offsets');
  }

  get isStopped(): boolean {
    return this.stopped !== null;
  }

  stop(why: RecordStop): void {
    this.stopped ??= why;
    this.idle?.unsubscribe();
    this.finish(this.stopped);
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.stop('signal');
  }

  /** A batch (control records included) ended at `lastOffset`: the partition may have reached its target. */
  batchEnded(partition: number, lastOffset: string): void {
    const high = this.targets?.get(partition);
    if (high === undefined) return;
    if (BigInt(lastOffset) + 1n >= high) this.done.add(partition);
    if (this.done.size === this.targets?.size) this.stop('end-offsets');
  }

  async eachBatch({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
    const high = this.targets?.get(batch.partition);
    const max = this.options.max ?? Number.POSITIVE_INFINITY;
    const out: SourceRecord[] = [];
    for (const message of batch.messages) {
      if (this.stopped !== null || this.records + out.length >= max) break;
      if (high !== undefined && BigInt(message.offset) >= high) break;
      out.push(toSourceRecord(batch.topic, batch.partition, message));
      resolveOffset(message.offset);
    }
    if (out.length > 0) {
      const written = this.write(out);
      this.writing = written.catch(() => undefined);
      await written;
      this.records += out.length;
      this.lastActivity = this.scheduler.now();
      this.options.onProgress?.(this.records);
    }
    if (this.records >= max) this.stop('max');
    await heartbeat();
  }

  /** Resolves once the batch being written (if any) is written. */
  settled(): Promise<void> {
    return this.writing;
  }

  /** Starts the idle timer (with `untilIdleMs`): stops once no record arrived for that long. */
  watchIdle(untilIdleMs: number): void {
    this.lastActivity = this.scheduler.now();
    const check = (): void => {
      const quiet = this.scheduler.now() - this.lastActivity;
      if (quiet >= untilIdleMs) this.stop('idle');
      else if (this.stopped === null) this.idle = this.scheduler.schedule(check, untilIdleMs - quiet);
    };
    if (this.stopped === null) this.idle = this.scheduler.schedule(check, untilIdleMs);
  }
}

async function consume(
  options: ConsumeTopicOptions,
  recorder: TopicRecorder,
  consumer: Consumer,
): Promise<void> {
  const { topic } = options;
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic) recorder.batchEnded(payload.partition, payload.lastOffset);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) recorder.fail(options.kafka.error(payload.error, `recording ${topic}`));
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: (options.from ?? 'earliest') === 'earliest' });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: (p) => recorder.eachBatch(p),
  });
  if (options.untilIdleMs !== undefined) recorder.watchIdle(options.untilIdleMs);
}

/**
 * Reads a topic with a throw-away consumer group that never commits (deleted at the end), so real
 * consumers are not disturbed, handing each fetched batch to `onRecords`. Stops at `max` records, or — by
 * default — once every partition reached the end offset (high watermark) it had when reading started, or
 * with `untilIdleMs` once no record arrived for that long (new records keep it going), or when `signal`
 * aborts. Records of one partition arrive in offset order; partitions interleave as fetched.
 */
export async function consumeTopic(options: ConsumeTopicOptions): Promise<ConsumeTopicResult> {
  validate(options);
  const { kafka, topic } = options;
  const admin = kafka.admin();
  await admin.connect().catch((err: unknown) => {
    throw wrap(kafka, err, 'connecting the Kafka admin client');
  });
  const groupId = options.groupId ?? `${kafka.clientId}-read-${randomUUID()}`;
  let consumer: Consumer | undefined;
  let recorder: TopicRecorder | undefined;
  const onAbort = (): void => recorder?.stop('signal');
  try {
    const targets = options.untilIdleMs === undefined ? await endOffsets(kafka, admin, topic) : null;
    const rec = new TopicRecorder(options, options.onRecords, targets, options.scheduler ?? asyncScheduler);
    recorder = rec;
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) rec.stop('signal');
    if (!rec.isStopped) {
      consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
      await consume(options, rec, consumer);
    }
    const stoppedBy = await rec.finished;
    await rec.settled();
    if (rec.failure !== undefined) throw rec.failure;
    return { records: rec.records, stoppedBy };
  } catch (err) {
    throw wrap(kafka, err, `reading ${topic}`);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await consumer?.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
