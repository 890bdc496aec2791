import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import type { CommitPosition } from '../streams/acks.js';

/** One partition offset to commit: the NEXT offset to consume. */
export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** Options of `OffsetCommitter`. */
export interface OffsetCommitterOptions {
  /** Sends one commit request (kafkajs `consumer.commitOffsets`). */
  readonly send: (offsets: readonly OffsetToCommit[]) => Promise<void>;
  /** Least time between scheduled commits, ms; 0 commits at the next tick after each request. */
  readonly intervalMs: number;
  readonly scheduler?: SchedulerLike;
  /** Called after each successful commit with what was committed. */
  readonly onCommitted?: (positions: readonly CommitPosition[]) => void;
  /** Called when a scheduled (not awaited) commit fails. */
  readonly onScheduledError?: (err: unknown) => void;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * Serialises and throttles offset commits. Positions are read when a commit actually runs (never a stale
 * snapshot from when it was queued), partitions whose position has not moved since the last commit are
 * skipped, and commits never overlap, so a later commit cannot be overtaken by an earlier one.
 */
export class OffsetCommitter {
  private readonly options: OffsetCommitterOptions;
  private readonly scheduler: SchedulerLike;
  private readonly committed = new Map<string, string>();
  private tail: Promise<void> = Promise.resolve();
  private timer: Subscription | null = null;
  private last = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(options: OffsetCommitterOptions) {
    this.options = options;
    this.scheduler = options.scheduler ?? asyncScheduler;
  }

  /** Commits the positions `positions()` returns when the commit runs; rejects if the request fails. */
  commit(positions: () => readonly CommitPosition[]): Promise<void> {
    const run = this.tail.then(() => this.send(positions()));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Asks for a commit within `intervalMs` of the previous one. Calls coalesce: at most one is pending.
   * Failures go to `onScheduledError` (the next commit carries the same positions again).
   */
  schedule(positions: () => readonly CommitPosition[]): void {
    if (this.timer !== null || this.stopped) return;
    const wait = Math.max(0, this.last + this.options.intervalMs - this.scheduler.now());
    this.timer = this.scheduler.schedule(() => {
      this.timer = null;
      this.commit(positions).catch((err: unknown) => this.options.onScheduledError?.(err));
    }, wait);
  }

  /** Forgets what was committed for a partition (it was revoked; another member owns it now). */
  forget(topic: string, partition: number): void {
    this.committed.delete(key(topic, partition));
  }

  /** Cancels a pending scheduled commit and ignores later `schedule` calls; `commit` still works. */
  stop(): void {
    this.stopped = true;
    this.timer?.unsubscribe();
    this.timer = null;
  }

  /** Waits for commits already queued. */
  idle(): Promise<void> {
    return this.tail;
  }

  private async send(positions: readonly CommitPosition[]): Promise<void> {
    const fresh = positions.filter((p) => this.committed.get(key(p.topic, p.partition)) !== p.commitOffset);
    this.last = this.scheduler.now();
    if (fresh.length === 0) return;
    await this.options.send(
      fresh.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.commitOffset })),
    );
    for (const p of fresh) this.committed.set(key(p.topic, p.partition), p.commitOffset);
    this.options.onCommitted?.(fresh);
  }
}
