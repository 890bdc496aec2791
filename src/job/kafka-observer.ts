import type { KafkaSourceObserver } from '../kafka/source-types.js';
import type { KafkaConsumerMetrics } from '../metrics/kafka-families.js';

/**
 * A `KafkaSourceObserver` that keeps `metrics` up to date: consumed records per run handed to the
 * pipeline (before the source awaits anything, so a scrape never sees fewer than were handed on), lag per
 * fetched batch,
 * assignment per (re)join (series of revoked partitions are removed, so a partition's lag is only
 * reported by its current owner; a topic that lost every partition shows 0), commits, rebalances and
 * pauses; lag also from the periodic end-offset poll (so it grows while paused). `topics` are the
 * subscribed topics.
 */
export function kafkaMetricsObserver(
  metrics: KafkaConsumerMetrics,
  topics: readonly string[],
): KafkaSourceObserver {
  const known = new Set(topics);
  return {
    emitted: ({ topic, records }) => metrics.consumed.inc({ topic }, records),
    fetched: ({ topic, partition, lag }) => metrics.lag.set({ topic, partition: String(partition) }, lag),
    groupJoin: ({ assignment, revoked }) => {
      for (const { topic, partition } of revoked) metrics.lag.remove({ topic, partition: String(partition) });
      const perTopic = new Map<string, number>([...known].map((t) => [t, 0]));
      for (const { topic } of assignment) {
        known.add(topic);
        perTopic.set(topic, (perTopic.get(topic) ?? 0) + 1);
      }
      for (const [topic, n] of perTopic) metrics.assignedPartitions.set({ topic }, n);
    },
    lag: ({ topic, partition, lag }) => metrics.lag.set({ topic, partition: String(partition) }, lag),
    committed: () => metrics.commits.inc(),
    rebalancing: () => metrics.rebalances.inc(),
    paused: () => metrics.pauses.inc(),
  };
}
