import type { CommitPosition } from '../streams/acks.js';
import type { KafkaClient } from './client.js';
import type { TopicPartition } from './source-types.js';

/** Map key of a topic-partition. */
export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Inverse of `tpKey`. */
export function fromKey(key: string): TopicPartition {
  const [topic = '', partition = '0'] = key.split('\u0000');
  return { topic, partition: Number(partition) };
}

/** Keys of a kafkajs member assignment (`{ topic: [partitions] }`). */
export function assignmentKeys(memberAssignment: Readonly<Record<string, readonly number[]>>): Set<string> {
  const keys = new Set<string>();
  for (const [topic, partitions] of Object.entries(memberAssignment)) {
    for (const p of partitions) keys.add(tpKey(topic, p));
  }
  return keys;
}

/** What a new assignment takes away. */
export interface Revocation {
  /** Partitions held before and not assigned now, in key order. */
  readonly revoked: readonly TopicPartition[];
  /** Their acknowledged positions, to commit before forgetting them. */
  readonly positions: readonly CommitPosition[];
}

/**
 * Partitions this member held (`held`: assigned, or with records still tracked) that the new assignment
 * `next` does not contain, with the committable positions among `committable`.
 */
export function revocation(
  held: Iterable<string>,
  next: ReadonlySet<string>,
  committable: readonly CommitPosition[],
): Revocation {
  const gone = new Set([...held].filter((k) => !next.has(k)));
  return {
    revoked: [...gone].sort().map(fromKey),
    positions: committable.filter((p) => gone.has(tpKey(p.topic, p.partition))),
  };
}

/** True for the errors a commit gets while the group rebalances (harmless: the next commit retries). */
export function isRebalanceError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const type = (e as { type?: unknown }).type;
    if (
      type === 'REBALANCE_IN_PROGRESS' ||
      type === 'ILLEGAL_GENERATION' ||
      type === 'UNKNOWN_MEMBER_ID' ||
      type === 'NOT_COORDINATOR'
    ) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Logs a failed commit: at debug during a rebalance (expected), else at warn. It is retried later. */
export function logCommitError(client: KafkaClient, err: unknown): void {
  const e = client.error(err, 'committing offsets');
  if (isRebalanceError(err)) {
    client.logger.debug({ err: e }, 'commit skipped during rebalance; retried on the next commit');
  } else {
    client.logger.warn({ err: e }, 'offset commit failed; retried on the next commit');
  }
}
