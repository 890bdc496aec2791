import type { Message, Producer } from 'kafkajs';
import { InvalidOptionError } from '../errors.js';
import type { KafkaClient } from './client.js';
import { KafkaError, recordRejection } from './errors.js';
import { JavaCompatiblePartitioner } from './partitioner.js';

/** Options of `SharedProducer.connect`. */
export interface SharedProducerOptions {
  /** Most messages per produce request; larger writes are sent in order as several requests. Default 500. */
  readonly maxMessagesPerRequest?: number;
  /** Broker-side wait for the in-sync replicas to acknowledge, ms. Default 30 000. */
  readonly ackTimeoutMs?: number;
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
  private users = 0;
  private disconnected: Promise<void> | null = null;

  private constructor(client: KafkaClient, producer: Producer, maxMessages: number, ackTimeoutMs: number) {
    this.client = client;
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
    return new SharedProducer(client, await connectProducer(client), maxMessages, ackTimeoutMs);
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
      try {
        await this.sendChunk(topic, chunk);
      } catch (err) {
        const error = this.client.error(err, `producing to ${topic}`);
        if (!STALE_PRODUCER_TYPES.has(String(error.context.type))) throw error;
        // A producer whose sequence numbers went stale: a fresh one sends the chunk again (at least once).
        await this.sendChunk(topic, chunk).catch((again: unknown) => {
          throw this.client.error(again, `producing to ${topic}`);
        });
      }
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
    this.renewing ??= connectProducer(this.client)
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
async function connectProducer(client: KafkaClient): Promise<Producer> {
  const producer = client.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: JavaCompatiblePartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 30_000 },
  });
  try {
    await producer.connect();
  } catch (err) {
    throw client.error(err, 'connecting the Kafka producer');
  }
  return producer;
}
