import { Counter, Gauge, type Registry } from 'prom-client';

/** Handles of the Kafka consumer metric families (the `run` command only). */
export interface KafkaConsumerMetrics {
  /** Records between this member's read position and the high watermark, per assigned partition. */
  readonly lag: Gauge<'topic' | 'partition'>;
  /** Partitions currently assigned to this member, per topic. */
  readonly assignedPartitions: Gauge<'topic'>;
  /** Records handed to the pipeline, per topic. */
  readonly consumed: Counter<'topic'>;
  readonly commits: Counter;
  readonly rebalances: Counter;
  /** Pauses for backpressure (out of credit). */
  readonly pauses: Counter;
}

/**
 * Registers the Kafka consumer families on `registry`. The per-topic series of `topics` start at 0 so
 * rates and the dashboards' topic variable work before the first record arrives.
 */
export function createKafkaConsumerMetrics(
  registry: Registry,
  topics: readonly string[],
): KafkaConsumerMetrics {
  const registers = [registry];
  const m: KafkaConsumerMetrics = {
    lag: new Gauge({
      name: 'flowsentinel_kafka_consumer_lag_records',
      help: 'Records between the next offset this member reads and the high watermark, per assigned partition (updated with every fetched batch).',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    assignedPartitions: new Gauge({
      name: 'flowsentinel_kafka_assigned_partitions',
      help: 'Partitions assigned to this consumer group member, per topic.',
      labelNames: ['topic'] as const,
      registers,
    }),
    consumed: new Counter({
      name: 'flowsentinel_kafka_records_consumed_total',
      help: 'Records read from Kafka and handed to the pipeline, per topic.',
      labelNames: ['topic'] as const,
      registers,
    }),
    commits: new Counter({
      name: 'flowsentinel_kafka_commits_total',
      help: 'Offset commits accepted by the broker (each covers every acknowledged partition).',
      registers,
    }),
    rebalances: new Counter({
      name: 'flowsentinel_kafka_rebalances_total',
      help: 'Consumer group rebalances this member took part in.',
      registers,
    }),
    pauses: new Counter({
      name: 'flowsentinel_kafka_pauses_total',
      help: 'Times fetching was paused because the records in flight reached batching.highWaterMark.',
      registers,
    }),
  };
  for (const topic of topics) {
    m.consumed.inc({ topic }, 0);
    m.assignedPartitions.set({ topic }, 0);
  }
  return m;
}
