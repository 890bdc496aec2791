import type { Message } from 'kafkajs';
import type { KafkaConfig } from '../config/schema.js';
import { InvalidOptionError } from '../errors.js';
import type { PipelineSinks } from '../streams/pipeline.js';
import { SinkError } from '../streams/sinks.js';
import type { DeadLetter, ScoredEvent, Sink } from '../streams/types.js';
import type { KafkaClient } from './client.js';
import { deadLetterMessage, jsonMessage, scoredEventMessage } from './messages.js';
import { SharedProducer, type SharedProducerOptions } from './producer.js';

/** Options of `KafkaSink`. */
export interface KafkaSinkOptions<T> {
  /** Retained by the sink; released by `close()`. */
  readonly producer: SharedProducer;
  readonly topic: string;
  /** One Kafka message per item. */
  readonly toMessage: (item: T) => Message;
}

/**
 * Writes items to one topic through a shared idempotent producer. `write` sends the whole array (in the
 * same request as the other sinks' writes of the same tick, see `ProduceQueue`; at most
 * `maxMessagesPerRequest` messages per request) and resolves only once the broker acknowledged every
 * message of this write with acks=all, so the pipeline may then acknowledge (and commit) the inputs.
 * Errors are `KafkaError`s: retriable for transient conditions that outlived the producer's retries.
 */
export class KafkaSink<T> implements Sink<T> {
  readonly topic: string;
  private readonly producer: SharedProducer;
  private readonly toMessage: (item: T) => Message;
  private readonly pending = new Set<Promise<void>>();
  private closing: Promise<void> | null = null;

  constructor(options: KafkaSinkOptions<T>) {
    if (typeof options.topic !== 'string' || options.topic.length === 0) {
      throw new InvalidOptionError('KafkaSink: topic must be a non-empty topic name');
    }
    if (typeof options.toMessage !== 'function') {
      throw new InvalidOptionError('KafkaSink: toMessage must map an item to a kafkajs message');
    }
    this.topic = options.topic;
    this.toMessage = options.toMessage;
    this.producer = options.producer.retain();
  }

  write(items: readonly T[]): Promise<void> {
    if (this.closing !== null) return Promise.reject(new SinkError(`Kafka sink for ${this.topic} is closed`));
    if (items.length === 0) return Promise.resolve();
    let messages: Message[];
    try {
      messages = items.map((item) => this.toMessage(item));
    } catch (err) {
      return Promise.reject(err);
    }
    const sent = this.producer.send(this.topic, messages);
    const tracked = sent.catch(() => undefined);
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
    return sent;
  }

  /** Waits for pending writes, then releases the producer (the last sink disconnects it). Idempotent. */
  close(): Promise<void> {
    this.closing ??= Promise.all([...this.pending]).then(() => this.producer.release());
    return this.closing;
  }
}

/** The pipeline's sinks on Kafka, plus the drift-events sink, on one shared producer. */
export interface KafkaSinks extends PipelineSinks {
  readonly anomalies: KafkaSink<ScoredEvent>;
  readonly scores?: KafkaSink<ScoredEvent>;
  readonly deadLetters: KafkaSink<DeadLetter>;
  /** Generic JSON events (drift detections), keyed by nothing. */
  readonly drift: KafkaSink<unknown>;
  /** Flushes every sink and disconnects the producer. */
  close(): Promise<void>;
}

/** Options of `createKafkaSinks`. */
export interface KafkaSinksOptions extends SharedProducerOptions {
  /** Dead-letter values longer than this are truncated (header `x-dlq-truncated-from`), bytes. Default 900 000. */
  readonly maxDeadLetterValueBytes?: number;
}

/**
 * Connects one idempotent producer and builds the output sinks of `kafka.outputs`: anomalies and scores
 * (JSON of the scored event, key = entity key, `x-model-version`/`x-reason`/`x-source-*` headers), dead
 * letters (original key, value and headers plus `x-dlq-reason`/`x-dlq-detail`/`x-source-*`) and drift
 * events (JSON). The scores sink exists only when `outputs.scores` is set.
 */
export async function createKafkaSinks(
  client: KafkaClient,
  outputs: KafkaConfig['outputs'],
  options: KafkaSinksOptions = {},
): Promise<KafkaSinks> {
  const maxValue = options.maxDeadLetterValueBytes ?? 900_000;
  if (!Number.isSafeInteger(maxValue) || maxValue < 1) {
    throw new InvalidOptionError(`maxDeadLetterValueBytes must be a positive integer, got ${maxValue}`);
  }
  const producer = await SharedProducer.connect(client, options);
  const anomalies = new KafkaSink<ScoredEvent>({
    producer,
    topic: outputs.anomalies,
    toMessage: scoredEventMessage,
  });
  const scores =
    outputs.scores === undefined
      ? undefined
      : new KafkaSink<ScoredEvent>({ producer, topic: outputs.scores, toMessage: scoredEventMessage });
  const deadLetters = new KafkaSink<DeadLetter>({
    producer,
    topic: outputs.deadLetters,
    toMessage: (dead) => deadLetterMessage(dead, maxValue),
  });
  const drift = new KafkaSink<unknown>({
    producer,
    topic: outputs.drift,
    toMessage: (item) => jsonMessage(item),
  });
  const all: { close(): Promise<void> }[] = [anomalies, deadLetters, drift, ...(scores ? [scores] : [])];
  return {
    anomalies,
    ...(scores ? { scores } : {}),
    deadLetters,
    drift,
    async close() {
      await Promise.all(all.map((s) => s.close()));
      await producer.disconnect();
    },
  };
}
