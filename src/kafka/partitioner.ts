import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`) of `data`, as a signed 32-bit int.
 * 32-bit arithmetic with `Math.imul`, so the cost is linear in the key length (kafkajs's own version
 * does BigInt arithmetic and froze the event loop for ~37 s on a 600 kB key).
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length & ~3;
  for (let i = 0; i < length4; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The tail bytes, as Java's fall-through switch mixes them.
  const tail = length & 3;
  if (tail === 3) h ^= data[length4 + 2]! << 16;
  if (tail >= 2) h ^= data[length4 + 1]! << 8;
  if (tail >= 1) {
    h ^= data[length4]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which would map MIN_VALUE to itself). */
const toPositive = (n: number): number => n & 0x7fffffff;

/** The partition Java's default partitioner picks for `key` (bytes, or a string as UTF-8) among `partitions`. */
export function keyPartition(key: Uint8Array | string, partitions: number): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return toPositive(murmur2(bytes)) % partitions;
}

/**
 * A kafkajs partitioner with the assignments of Java's default partitioner for keyed messages
 * (`toPositive(murmur2(key)) % partitions`, over all partitions), linear in the key size. An explicit
 * `partition` wins; messages without a key go round-robin over the partitions that have a leader, as
 * kafkajs's default does (the counter starts at 0 per topic).
 */
export const JavaCompatiblePartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    const key = message.key;
    if (key !== undefined && key !== null) return keyPartition(key, partitionMetadata.length);
    const counter = (counters.get(topic) ?? -1) + 1;
    counters.set(topic, counter);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    const pool = available.length > 0 ? available : partitionMetadata;
    return pool[toPositive(counter) % pool.length]?.partitionId ?? 0;
  };
};
