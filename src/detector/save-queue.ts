import { InvalidOptionError } from '../errors.js';
import type { OnlineDetectorState } from './detector-state.js';
import type { KeyModelStore } from './key-model-store.js';

/**
 * Evicted per-key models waiting to be written, one write at a time in eviction order, so the file
 * writes and fsyncs of a batch's evictions overlap the scoring of its other keys instead of stalling it.
 * At most `maxPending` states are held (each is a whole model): `enqueue` waits for the oldest write
 * beyond that. The `KeyedDetector` drains the queue before `process` returns, so a processed batch still
 * means its evicted models are on disk.
 */
export class SaveQueue {
  readonly maxPending: number;
  private readonly store: KeyModelStore;
  /** Queued and running writes, oldest first; each settles (never rejects) and then removes itself. */
  private readonly items: Promise<void>[] = [];
  private tail: Promise<void> = Promise.resolve();
  /** The latest queued write of each key with one queued or running. */
  private readonly byKey = new Map<string, Promise<void>>();
  private failure: { readonly error: unknown } | undefined;

  constructor(store: KeyModelStore, maxPending: number) {
    if (!Number.isInteger(maxPending) || maxPending < 1) {
      throw new InvalidOptionError(`maxPendingSaves must be an integer >= 1, got ${maxPending}`);
    }
    this.store = store;
    this.maxPending = maxPending;
  }

  /** Writes queued or running. */
  get pending(): number {
    return this.items.length;
  }

  /**
   * Queues `state` as `key`'s saved model, after the writes already queued; first waits while
   * `maxPending` are queued. Throws the error of a write that failed since the last `drain`.
   */
  async enqueue(key: string, state: OnlineDetectorState): Promise<void> {
    while (this.items.length >= this.maxPending) await this.items[0];
    this.rethrow();
    const run: Promise<void> = this.tail
      .then(() => this.store.save(key, state))
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => {
        this.items.shift();
        if (this.byKey.get(key) === run) this.byKey.delete(key);
      });
    this.items.push(run);
    this.byKey.set(key, run);
    this.tail = run;
  }

  /** Waits until `key`'s queued write (if any) is on disk, so a load reads it; throws a failed write. */
  async waitFor(key: string): Promise<void> {
    const run = this.byKey.get(key);
    if (run === undefined) return;
    await run;
    this.rethrow();
  }

  /** Waits for every queued write; throws the first that failed (then forgets it). */
  async drain(): Promise<void> {
    await this.tail;
    this.rethrow();
  }

  private rethrow(): void {
    const f = this.failure;
    if (f === undefined) return;
    this.failure = undefined;
    throw f.error;
  }
}
