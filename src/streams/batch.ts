import {
  asyncScheduler,
  Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { InvalidOptionError } from '../errors.js';

/** Options of `microBatch`. */
export interface MicroBatchOptions {
  /** Emit as soon as a batch holds this many items. Positive integer. */
  readonly maxSize: number;
  /**
   * Emit at most this many milliseconds after the first item of the current batch arrived. `Infinity`
   * batches by count only (deterministic batch boundaries, e.g. for byte-identical replays).
   */
  readonly maxWaitMs: number;
  /** Scheduler of the wait timer; default `asyncScheduler`. Inject a `TestScheduler` in tests. */
  readonly scheduler?: SchedulerLike;
}

/** Validates `MicroBatchOptions`; throws `InvalidOptionError` saying what to fix. */
export function validateMicroBatchOptions(options: MicroBatchOptions): void {
  if (!Number.isSafeInteger(options.maxSize) || options.maxSize < 1) {
    throw new InvalidOptionError(`maxSize must be a positive integer, got ${options.maxSize}`, {
      context: { maxSize: options.maxSize },
    });
  }
  const wait = options.maxWaitMs;
  if (typeof wait !== 'number' || Number.isNaN(wait) || wait < 0) {
    throw new InvalidOptionError(`maxWaitMs must be >= 0 milliseconds or Infinity, got ${wait}`, {
      context: { maxWaitMs: wait },
    });
  }
}

/**
 * Groups items into arrays. A batch is emitted when it reaches `maxSize` items or `maxWaitMs` after its
 * FIRST item arrived, whichever comes first, so no item waits longer than `maxWaitMs` (unlike
 * `bufferTime`, whose timer runs regardless of arrivals). On completion the partial batch is flushed;
 * empty batches are never emitted. On error the partial batch is dropped and the error propagates
 * (its items were never acknowledged, so they are redelivered).
 */
export function microBatch<T>(options: MicroBatchOptions): OperatorFunction<T, T[]> {
  validateMicroBatchOptions(options);
  const { maxSize, maxWaitMs, scheduler = asyncScheduler } = options;
  const timed = Number.isFinite(maxWaitMs);
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let buffer: T[] = [];
      let timer: Subscription | null = null;
      const cancelTimer = (): void => {
        timer?.unsubscribe();
        timer = null;
      };
      const flush = (): void => {
        cancelTimer();
        if (buffer.length === 0) return;
        const batch = buffer;
        // Reset before emitting: downstream may synchronously cause upstream to emit again.
        buffer = [];
        subscriber.next(batch);
      };
      const subscription = source.subscribe({
        next(item) {
          buffer.push(item);
          if (buffer.length >= maxSize) flush();
          else if (buffer.length === 1 && timed) timer = scheduler.schedule(flush, maxWaitMs);
        },
        error(err: unknown) {
          cancelTimer();
          buffer = [];
          subscriber.error(err);
        },
        complete() {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        cancelTimer();
        buffer = [];
        subscription.unsubscribe();
      };
    });
}
