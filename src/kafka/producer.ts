import type { Message, Producer, TopicMessages } from 'kafkajs';
import { InvalidOptionError, isRetriable } from '../errors.js';
import type { KafkaClient } from './client.js';
import { KafkaError, recordRejection } from './errors.js';
import type { KafkaHealth } from './health.js';
import { JavaCompatiblePartitioner } from './partitioner.js';
import { ProduceQueue, type TopicWrite } from './produce-queue.js';

/** Options of `SharedProducer.connect`. */
export interface SharedProducerOptions {
  /**
   * Most messages per produce request; larger writes are sent in order as several requests, and writes
   * queued together (`ProduceQueue`) share a request only up to this many messages. Default 500.
   */
  readonly maxMessagesPerRequest?: number;
  /** Broker-side wait for the in-sync replicas to acknowledge, ms. Default 30 000. */
  readonly ackTimeoutMs?: number;
  /**
   * Broker contact tracking shared with the source: responses count as contact, writes are tracked
   * until acknowledged, and a write whose retries kafkajs gave up on is tried again until
   * `health.outageExceeded()` (then it fails with `health.outageError()`).
   */
  readonly health?: KafkaHealth;
}

/**
 * One idempotent kafkajs producer shared by several sinks: `acks: -1` (all in-sync replicas),
 * `idempotent: true` with `maxInFlightRequests: 1` (what kafkajs needs for ordered, de-duplicated
 * retries), unlimited retries with backoff for transient errors, Java-compatible key partitioning
 * (`JavaCompatiblePartitioner`: linear in the key size, unlike kafkajs's BigInt murmur2).
 * Writes of several sinks queued in the same tick, or while a request is in flight, go out as one
 * produce request (`ProduceQueue`: one round trip per micro-batch for anomalies, scores and drift).
 * Reference-counted: each user `retain`s it and `release`s it; the last release disconnects.
 */
export class SharedProducer {
  private producer: Producer;
  /** Replaces `producer` after a rejected send; shared by concurrent senders. */
  private renewing: Promise<void> | null = null;
  private readonly client: KafkaClient;
  private readonly maxMessages: number;
  private readonly ackTimeoutMs: number;
  private readonly health: KafkaHealth | undefined;
  private users = 0;
  private disconnected: Promise<void> | null = null;
  private readonly queue: ProduceQueue;

  private constructor(
    client: KafkaClient,
    producer: Producer,
    maxMessages: number,
    ackTimeoutMs: number,
    health: KafkaHealth | undefined,
  ) {
    this.client = client;
    this.health = health;
    this.producer = producer;
    this.maxMessages = maxMessages;
    this.ackTimeoutMs = ackTimeoutMs;
    this.queue = new ProduceQueue(maxMessages, {
      sendTogether: (writes) => this.sendTracked(writes),
      sendAlone: (write) => this.sendAlone(write),
    });
  }

  /** Creates and connects the producer. Throws a `KafkaError` (fatal for auth/TLS problems). */
  static async connect(client: KafkaClient, options: SharedProducerOptions = {}): Promise<SharedProducer> {
    const maxMessages = options.maxMessagesPerRequest ?? 500;
    const ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
    if (!Number.isSafeInteger(maxMessages) || maxMessages < 1) {
      throw new InvalidOptionError(`maxMessagesPerRequest must be a positive integer, got ${maxMessages}`);
    }
    if (!Number.isSafeInteger(ackTimeoutMs) || ackTimeoutMs < 1) {
      throw new InvalidOptionError(`ackTimeoutMs must be a positive integer of ms, got ${ackTimeoutMs}`);
    }
    const producer = await connectProducer(client, options.health);
    return new SharedProducer(client, producer, maxMessages, ackTimeoutMs, options.health);
  }

  /** Registers a user; `release` it when done. */
  retain(): this {
    if (this.disconnected !== null)
      throw new KafkaError('the Kafka producer is already disconnected', 'config');
    this.users++;
    return this;
  }

  /**
   * Sends `messages` to `topic` in order, in one request with the other writes queued meanwhile (see
   * `ProduceQueue`); resolves once the broker acknowledged every message of this write.
   */
  send(topic: string, messages: readonly Message[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return this.queue.push(topic, messages);
  }

  /** One write on its own, in requests of at most `maxMessagesPerRequest` messages. */
  private async sendAlone({ topic, messages }: TopicWrite): Promise<void> {
    for (let i = 0; i < messages.length; i += this.maxMessages) {
      await this.sendTracked([{ topic, messages: messages.slice(i, i + this.maxMessages) }]);
    }
  }

  /** One produce request, tracked by the health clock while it awaits the broker. */
  private async sendTracked(writes: readonly TopicWrite[]): Promise<void> {
    const topicMessages = writes.map(({ topic, messages }) => ({ topic, messages: [...messages] }));
    const write = this.health?.writeStarted();
    try {
      await this.sendRetrying(topicMessages);
    } finally {
      if (write !== undefined) this.health?.writeEnded(write);
    }
  }

  /** One request, again after kafkajs gave up on a transient error, while the outage tolerance allows. */
  private async sendRetrying(topicMessages: TopicMessages[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.sendOnce(topicMessages);
        return;
      } catch (err) {
        const { health } = this;
        if (health === undefined || !isRetriable(err)) throw err;
        if (health.outageExceeded())
          throw new KafkaError(health.outageError().message, 'transient', { cause: err });
        this.client.logger.warn(
          { err, attempt, unreachableMs: health.unreachableMs() },
          `${producing(topicMessages)} failed; retrying until kafka.outageToleranceMs`,
        );
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 500 * 2 ** Math.min(attempt, 4))));
      }
    }
  }

  private async sendOnce(topicMessages: TopicMessages[]): Promise<void> {
    try {
      await this.sendRequest(topicMessages);
    } catch (err) {
      const error = this.client.error(err, producing(topicMessages));
      if (!STALE_PRODUCER_TYPES.has(String(error.context.type))) throw error;
      // A producer whose sequence numbers went stale: a fresh one sends the request again (at least once).
      await this.sendRequest(topicMessages);
    }
  }

  private async sendRequest(topicMessages: TopicMessages[]): Promise<void> {
    await this.renewing;
    const producer = this.producer;
    try {
      await producer.sendBatch({ topicMessages, acks: -1, timeout: this.ackTimeoutMs });
    } catch (err) {
      const error = this.client.error(err, producing(topicMessages));
      if (recordRejection(error) !== undefined || STALE_PRODUCER_TYPES.has(String(error.context.type))) {
        await this.renew(producer);
      }
      throw error;
    }
  }

  /**
   * A fresh producer (new producer id) in place of `failed`. kafkajs rolls back the sequence numbers of
   * every partition of a produce request that failed, including partitions the broker accepted, so after
   * a rejected record the old producer's next batches would be refused as out of order (or dropped as
   * duplicates). The old producer is disconnected in the background.
   */
  private renew(failed: Producer): Promise<void> {
    if (this.producer !== failed) return this.renewing ?? Promise.resolve();
    this.renewing ??= connectProducer(this.client, this.health)
      .then((fresh) => {
        this.producer = fresh;
        failed.disconnect().catch(() => undefined);
      })
      .finally(() => {
        this.renewing = null;
      });
    return this.renewing;
  }

  /** Drops a user; the last one disconnects (kafkajs waits for in-flight requests). */
  async release(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
    if (this.users === 0) await this.disconnect();
  }

  /** Disconnects now, whoever still uses it. Idempotent. */
  disconnect(): Promise<void> {
    this.disconnected ??= this.producer.disconnect().catch((err: unknown) => {
      throw this.client.error(err, 'disconnecting the Kafka producer');
    });
    return this.disconnected;
  }
}

/** The action of a request in errors and logs: `producing to a, b`. */
function producing(topicMessages: readonly TopicMessages[]): string {
  return `producing to ${[...new Set(topicMessages.map((t) => t.topic))].join(', ')}`;
}

/** Errors after which the producer's id or sequence numbers are no good any more. */
const STALE_PRODUCER_TYPES = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
]);

/** The idempotent producer every `SharedProducer` uses, connected. */
async function connectProducer(client: KafkaClient, health?: KafkaHealth): Promise<Producer> {
  const producer = client.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: JavaCompatiblePartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 30_000 },
  });
  if (health !== undefined) producer.on(producer.events.REQUEST, () => health.contact());
  try {
    await producer.connect();
  } catch (err) {
    throw client.error(err, 'connecting the Kafka producer');
  }
  return producer;
}
