import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { kafkaMetricsObserver } from '../../src/job/kafka-observer.js';
import { createKafkaConsumerMetrics } from '../../src/metrics/kafka-families.js';

async function samples(registry: Registry, name: string): Promise<Record<string, number>> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return Object.fromEntries(
    (m?.values ?? []).map((v) => [
      Object.entries(v.labels)
        .map(([k, l]) => `${k}=${String(l)}`)
        .join(','),
      v.value,
    ]),
  );
}

describe('Kafka consumer metric families', () => {
  it('start the per-topic series at 0 so rates and the topic variable work before any record', async () => {
    const registry = new Registry();
    createKafkaConsumerMetrics(registry, ['a', 'b']);
    expect(await samples(registry, 'flowsentinel_kafka_records_consumed_total')).toEqual({
      'topic=a': 0,
      'topic=b': 0,
    });
    expect(await samples(registry, 'flowsentinel_kafka_assigned_partitions')).toEqual({
      'topic=a': 0,
      'topic=b': 0,
    });
    expect(await samples(registry, 'flowsentinel_kafka_consumer_lag_records')).toEqual({});
  });

  it('follow emitted runs, fetched batches, assignments, commits, rebalances and pauses', async () => {
    const registry = new Registry();
    const m = createKafkaConsumerMetrics(registry, ['a', 'b']);
    const observer = kafkaMetricsObserver(m, ['a', 'b']);
    observer.groupJoin?.({
      assignment: [
        { topic: 'a', partition: 0 },
        { topic: 'a', partition: 1 },
        { topic: 'b', partition: 0 },
      ],
      revoked: [],
    });
    observer.emitted?.({ topic: 'a', partition: 0, records: 60 });
    observer.emitted?.({ topic: 'a', partition: 0, records: 40 });
    observer.fetched?.({ topic: 'a', partition: 0, emitted: 100, lag: 900 });
    observer.fetched?.({ topic: 'a', partition: 1, emitted: 0, lag: 5 });
    observer.emitted?.({ topic: 'a', partition: 0, records: 50 });
    observer.fetched?.({ topic: 'a', partition: 0, emitted: 50, lag: 850 });
    observer.emitted?.({ topic: 'b', partition: 0, records: 7 });
    observer.fetched?.({ topic: 'b', partition: 0, emitted: 7, lag: 0 });
    observer.committed?.([]);
    observer.committed?.([]);
    observer.rebalancing?.();
    observer.paused?.();
    expect(await samples(registry, 'flowsentinel_kafka_consumer_lag_records')).toEqual({
      'topic=a,partition=0': 850,
      'topic=a,partition=1': 5,
      'topic=b,partition=0': 0,
    });
    expect(await samples(registry, 'flowsentinel_kafka_records_consumed_total')).toEqual({
      'topic=a': 150,
      'topic=b': 7,
    });
    expect(await samples(registry, 'flowsentinel_kafka_assigned_partitions')).toEqual({
      'topic=a': 2,
      'topic=b': 1,
    });
    const text = await registry.metrics();
    expect(text).toContain('flowsentinel_kafka_commits_total 2');
    expect(text).toContain('flowsentinel_kafka_rebalances_total 1');
    expect(text).toContain('flowsentinel_kafka_pauses_total 1');

    // Rebalance: a/1 and all of b move to another member; their lag is no longer this member's to report.
    observer.groupJoin?.({
      assignment: [{ topic: 'a', partition: 0 }],
      revoked: [
        { topic: 'a', partition: 1 },
        { topic: 'b', partition: 0 },
      ],
    });
    expect(await samples(registry, 'flowsentinel_kafka_consumer_lag_records')).toEqual({
      'topic=a,partition=0': 850,
    });
    expect(await samples(registry, 'flowsentinel_kafka_assigned_partitions')).toEqual({
      'topic=a': 1,
      'topic=b': 0,
    });
  });
});
