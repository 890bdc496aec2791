import { Observable, type Subscriber } from 'rxjs';
import { FlowsentinelError } from '../errors.js';
import type { CreditGate } from './backpressure.js';
import { type BufferedAsyncIterator, isBuffered } from './buffered-iterator.js';
import type { SourceRecord } from './types.js';

/** A source failed to read its input (file missing, unreadable, iterator threw). */
export class SourceError extends FlowsentinelError {}

/**
 * Where records come from (Kafka, a replay file, the generator). All sources follow one contract:
 *
 * - `records(credits)` is cold: each subscription reads the input anew.
 * - Before emitting a record the source takes one credit from `credits`; it never emits without one.
 *   The consumer releases the credit when the record is acknowledged, so at most
 *   `credits.highWaterMark` records are in flight. Pull sources stop pulling while out of credit;
 *   push sources pause (Kafka: `consumer.pause()`, see `bindPauseResume`) and resume on release.
 * - Completes at the end of finite input; errors with a `FlowsentinelError` (`SourceError` unless the
 *   cause already is one).
 * - Unsubscribing stops reading and releases files, timers and connections promptly.
 */
export interface RecordSource {
  records(credits: CreditGate): Observable<SourceRecord>;
}

/** Produces a fresh iterable per subscription; `signal` aborts when the subscriber unsubscribes. */
export type IterableFactory<T> = (signal: AbortSignal) => Iterable<T> | AsyncIterable<T>;

function asSourceError(err: unknown): FlowsentinelError {
  if (err instanceof FlowsentinelError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SourceError(`source failed: ${message}`, { cause: err });
}

/** Synchronous pulls: drains as far as credits allow, again on every credit release. */
function pullSync<T>(iterator: Iterator<T>, credits: CreditGate, subscriber: Subscriber<T>): () => void {
  let finished = false;
  let draining = false;
  let again = false;
  const finish = (end: () => void): void => {
    finished = true;
    credits.release(1);
    end();
  };
  const pullOnce = (): void => {
    let step: IteratorResult<T>;
    try {
      step = iterator.next();
    } catch (err) {
      finish(() => subscriber.error(asSourceError(err)));
      return;
    }
    if (step.done) finish(() => subscriber.complete());
    else subscriber.next(step.value);
  };
  const drain = (): void => {
    // Releases can arrive re-entrantly from inside `subscriber.next`; loop instead of recursing.
    if (draining) {
      again = true;
      return;
    }
    draining = true;
    do {
      again = false;
      while (!finished && !subscriber.closed && credits.tryAcquire()) pullOnce();
    } while (again && !finished && !subscriber.closed);
    draining = false;
  };
  const subscription = credits.inFlight$.subscribe(drain);
  return () => {
    subscription.unsubscribe();
    if (!finished) {
      finished = true;
      iterator.return?.();
    }
  };
}

/**
 * Asynchronous pulls: take a credit (awaited only when none is left), then the next item (awaited only
 * when a buffered iterator has none at hand), one at a time.
 */
async function pullAsync<T>(
  iterator: AsyncIterator<T>,
  credits: CreditGate,
  subscriber: Subscriber<T>,
  signal: AbortSignal,
): Promise<void> {
  let done = false;
  const buffered = isBuffered(iterator);
  try {
    // A credit at hand is taken without awaiting `acquire` (one promise less per record).
    while (credits.tryAcquire() || (await credits.acquire(signal))) {
      let step: IteratorResult<T>;
      try {
        // A buffered iterator's item at hand is taken without a promise (see buffered-iterator.ts).
        const now = buffered ? (iterator as BufferedAsyncIterator<T>).tryNext() : undefined;
        step = now ?? (await iterator.next());
      } catch (err) {
        credits.release(1);
        throw err;
      }
      if (step.done || signal.aborted) {
        credits.release(1);
        done = step.done === true;
        if (done) subscriber.complete();
        return;
      }
      subscriber.next(step.value);
    }
  } catch (err) {
    done = true;
    if (!signal.aborted) subscriber.error(asSourceError(err));
  } finally {
    if (!done) await iterator.return?.()?.catch(() => undefined);
  }
}

/**
 * Credit-driven pull: an Observable that takes the next item from a (sync or async) iterable only after
 * acquiring a credit from `credits`, so the iterable is never read more than `highWaterMark` items ahead
 * of acknowledgements. Sync iterables are pulled synchronously (marble-testable); async ones one item at
 * a time. Errors thrown by the iterable become `SourceError`s (flowsentinel errors pass through).
 */
export function pullSource<T>(factory: IterableFactory<T>, credits: CreditGate): Observable<T> {
  return new Observable<T>((subscriber) => {
    const controller = new AbortController();
    let iterable: Iterable<T> | AsyncIterable<T>;
    try {
      iterable = factory(controller.signal);
    } catch (err) {
      subscriber.error(asSourceError(err));
      return undefined;
    }
    if (Symbol.asyncIterator in iterable) {
      const iterator = iterable[Symbol.asyncIterator]();
      pullAsync(iterator, credits, subscriber, controller.signal).catch((err: unknown) => {
        if (!subscriber.closed) subscriber.error(asSourceError(err));
      });
      return () => controller.abort();
    }
    const stop = pullSync(iterable[Symbol.iterator](), credits, subscriber);
    return () => {
      controller.abort();
      stop();
    };
  });
}

/** A `RecordSource` over a fresh (async) iterable of records per subscription. */
export function iterableSource(factory: IterableFactory<SourceRecord>): RecordSource {
  return { records: (credits) => pullSource(factory, credits) };
}
