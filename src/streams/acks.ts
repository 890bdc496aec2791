import { FlowsentinelError } from '../errors.js';
import type { RecordRef } from './types.js';

/** A record was registered out of order or with a malformed offset. */
export class AckError extends FlowsentinelError {}

/** How far a partition has been processed. */
export interface CommitPosition {
  readonly topic: string;
  readonly partition: number;
  /** Highest offset such that it and every earlier registered offset of the partition are acknowledged. */
  readonly offset: string;
  /** What to pass to Kafka's `commitOffsets`: the NEXT offset to consume, `offset + 1`. */
  readonly commitOffset: string;
}

interface Entry {
  readonly offset: string;
  acked: boolean;
}

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Registered, in arrival order; entries before `head` are acknowledged and forgotten. */
  queue: Entry[];
  head: number;
  readonly pending: Map<string, Entry>;
  /** Highest offset registered (canonical decimal), null before the first. */
  lastRegistered: string | null;
  lastDone: string | null;
}

const OFFSET = /^(?:0|[1-9]\d*)$/;

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * Tracks which records have durable outputs and how far each partition may be committed.
 *
 * Records are registered in arrival order per (topic, partition) — offsets must increase, gaps (compaction,
 * transaction markers) are fine. `ack` may come in any order, e.g. a dead letter written before the batch
 * of an earlier event; the committable position only advances over a contiguous acknowledged prefix, so a
 * commit never skips a record whose outputs are not yet durable.
 */
export class AckTracker {
  private readonly partitions = new Map<string, PartitionState>();
  /** The partition `stateOf` found last: records come in runs from one partition. */
  private last: PartitionState | undefined;
  private pendingCount = 0;

  /** Registers a record at arrival. Throws `AckError` unless its offset exceeds the partition's last one. */
  register(ref: RecordRef): void {
    if (!OFFSET.test(ref.offset)) {
      throw new AckError(`offset must be a non-negative decimal integer string, got '${ref.offset}'`, {
        context: { ...ref },
      });
    }
    const state = this.stateOf(ref.topic, ref.partition, true)!;
    if (state.lastRegistered !== null && notAbove(ref.offset, state.lastRegistered)) {
      throw new AckError(
        `offset ${ref.offset} of ${ref.topic}/${ref.partition} arrived after offset ${state.lastRegistered}; ` +
          'offsets must increase within a partition (release the partition on rebalance before re-reading)',
        { context: { ...ref, lastRegistered: state.lastRegistered } },
      );
    }
    state.lastRegistered = ref.offset;
    const entry: Entry = { offset: ref.offset, acked: false };
    state.queue.push(entry);
    state.pending.set(ref.offset, entry);
    this.pendingCount++;
  }

  /**
   * Marks a registered record's outputs durable. Returns false (and changes nothing) for unknown records,
   * records already acknowledged, and records of released partitions.
   */
  ack(ref: RecordRef): boolean {
    const state = this.stateOf(ref.topic, ref.partition, false);
    const entry = state?.pending.get(ref.offset);
    if (state === undefined || entry === undefined) return false;
    entry.acked = true;
    state.pending.delete(ref.offset);
    this.pendingCount--;
    advance(state);
    return true;
  }

  /**
   * Per partition with progress, the highest offset that is acknowledged together with all earlier
   * registered offsets (`offset`), and the Kafka commit offset `offset + 1` (`commitOffset`). Sorted by
   * topic then partition.
   */
  committable(): CommitPosition[] {
    const out: CommitPosition[] = [];
    for (const s of this.partitions.values()) {
      if (s.lastDone === null) continue;
      out.push({
        topic: s.topic,
        partition: s.partition,
        offset: s.lastDone,
        commitOffset: (BigInt(s.lastDone) + 1n).toString(),
      });
    }
    return out.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  /** Registered records not yet acknowledged, over all partitions. */
  get pending(): number {
    return this.pendingCount;
  }

  /**
   * Forgets a partition (it was revoked in a rebalance): its pending records no longer count and later
   * acks for them are ignored. Commit its `committable()` position BEFORE releasing if you want it.
   */
  releasePartition(topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    const state = this.partitions.get(key);
    if (state === undefined) return;
    this.pendingCount -= state.pending.size;
    this.partitions.delete(key);
    if (this.last === state) this.last = undefined;
  }

  private stateOf(topic: string, partition: number, create: boolean): PartitionState | undefined {
    const last = this.last;
    if (last !== undefined && last.partition === partition && last.topic === topic) return last;
    const key = partitionKey(topic, partition);
    let state = this.partitions.get(key);
    if (state === undefined && create) {
      state = {
        topic,
        partition,
        queue: [],
        head: 0,
        pending: new Map(),
        lastRegistered: null,
        lastDone: null,
      };
      this.partitions.set(key, state);
    }
    if (state !== undefined) this.last = state;
    return state;
  }
}

/** Moves the head over the acknowledged prefix; compacts the queue now and then (amortised O(1)). */
/**
 * `a <= b` for canonical decimal offsets (no leading zeros, as `OFFSET` checks): a shorter one is smaller,
 * equal lengths compare as text. No BigInt per record.
 */
export function notAbove(a: string, b: string): boolean {
  return a.length < b.length || (a.length === b.length && a <= b);
}

function advance(state: PartitionState): void {
  let entry = state.queue[state.head];
  while (entry?.acked === true) {
    state.lastDone = entry.offset;
    state.head++;
    entry = state.queue[state.head];
  }
  if (state.head > 1024 && state.head * 2 > state.queue.length) {
    state.queue = state.queue.slice(state.head);
    state.head = 0;
  }
}
