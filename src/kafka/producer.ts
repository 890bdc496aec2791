import type { Message, Producer } from 'kafkajs';
import { InvalidOptionError, isRetriable } from '../errors.js';
import type { KafkaClient } from './client.js';
import { KafkaError, recordRejection } from './errors.js';
import type { KafkaHealth } from './health.js';
import { JavaCompatiblePartitioner } from './partitioner.js';

/** Options of `SharedProducer.connect`. */
export interface SharedProducerOptions {
  /** Most messages per produce request; larger writes are sent in order as several requests. Default 500. */
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

  /** Sends `messages` to `topic` in order; resolves once every request is acknowledged by the broker. */
  async send(topic: string, messages: readonly Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += this.maxMessages) {
      const chunk = messages.slice(i, i + this.maxMessages);
      const write = this.health?.writeStarted();
      try {
        await this.sendRetrying(topic, chunk);
      } finally {
        if (write !== undefined) this.health?.writeEnded(write);
      }
    }
  }

  /** One chunk, again after kafkajs gave up on a transient error, while the outage tolerance allows. */
  private async sendRetrying(topic: string, chunk: Message[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.sendOnce(topic, chunk);
        return;
      } catch (err) {
        const { health } = this;
        if (health === undefined || !isRetriable(err)) throw err;
        if (health.outageExceeded())
          throw new KafkaError(health.outageError().message, 'transient', { cause: err });
        this.client.logger.warn(
          { err, attempt, unreachableMs: health.unreachableMs() },
          `producing to ${topic} failed; retrying until kafka.outageToleranceMs`,
        );
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 500 * 2 ** Math.min(attempt, 4))));
      }
    }
  }

  private async sendOnce(topic: string, chunk: Message[]): Promise<void> {
    try {
      await this.sendChunk(topic, chunk);
    } catch (err) {
      const error = this.client.error(err, `producing to ${topic}`);
      if (!STALE_PRODUCER_TYPES.has(String(error.context.type))) throw error;
      // A producer whose sequence numbers went stale: a fresh one sends the chunk again (at least once).
      await this.sendChunk(topic, chunk);
    }
  }

  private async sendChunk(topic: string, messages: Message[]): Promise<void> {
    await this.renewing;
    const producer = this.producer;
    try {
      await producer.send({ topic, messages, acks: -1, timeout: this.ackTimeoutMs });
    } catch (err) {
      const error = this.client.error(err, `producing to ${topic}`);
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
