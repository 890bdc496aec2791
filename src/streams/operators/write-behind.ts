import {
  type MonoTypeOperatorFunction,
  Observable,
  type OperatorFunction,
  of,
  type Subscriber,
  type Subscription,
} from 'rxjs';
import { InvalidOptionError } from '../../errors.js';

/** The three parts `writeBehind` runs each item through. */
export interface WriteBehindStages<T, S, R> {
  /** The detector's part (score, gate, drift): one item at a time, never during another item's `finish`. */
  readonly score: OperatorFunction<T, S>;
  /** The writes of an item's outputs: one item at a time, in order; may overlap later items' `score`. */
  readonly write: MonoTypeOperatorFunction<S>;
  /** After the item's writes resolved (acknowledge, report): in order, never during a `score`. */
  readonly finish: OperatorFunction<S, R>;
}

/** Most `writesInFlight` `writeBehind` takes; more only holds more records unacknowledged. */
export const MAX_WRITES_IN_FLIGHT = 8;

/** Throws `InvalidOptionError` unless `n` is an integer in [0, MAX_WRITES_IN_FLIGHT]. */
export function validateWritesInFlight(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_WRITES_IN_FLIGHT) {
    throw new InvalidOptionError(
      `writesInFlight must be an integer from 0 (write and acknowledge each batch before scoring the next) to ${MAX_WRITES_IN_FLIGHT}, got ${n}`,
      { context: { writesInFlight: n } },
    );
  }
}

/** Where the items are; a snapshot is enough to decide the next step. */
interface State<T, S> {
  /** Arrived, not scored yet. */
  readonly waiting: T[];
  /** Scored, write not started. */
  readonly toWrite: S[];
  /** Written, not finished. */
  readonly written: S[];
  lane: Subscription | null;
  write: Subscription | null;
  sourceDone: boolean;
  writeFailed: { readonly err: unknown } | null;
}

/**
 * Runs each item through `score`, `write` and `finish` like `oneAtATime(pipe(score, write, finish))`,
 * except that up to `writesInFlight` items may still be writing (or waiting to write, or to finish) while
 * the next item is scored: the writes' wait for the broker overlaps the detector's work.
 *
 * - `score` and `finish` share one lane: they never overlap each other, so `finish` (acknowledgements,
 *   metrics, checkpoints reading the model) never sees the detector halfway through a batch. A waiting
 *   `finish` goes before the next `score`.
 * - `write`s run one item at a time in score order, so each sink receives its writes in the same order
 *   as without overlap; `finish`es run in the same order.
 * - Scoring waits while more than `writesInFlight` items are scored but not finished. With 0 an item is
 *   finished before the next is scored (exactly `oneAtATime`).
 * - Errors of the source, `score` or `finish` end the output at once. After a `write` error nothing
 *   more is scored or written, the items written before it are finished, then the error is emitted:
 *   everything before the failed item is acknowledged, as without overlap.
 */
export function writeBehind<T, S, R>(
  stages: WriteBehindStages<T, S, R>,
  writesInFlight: number,
): OperatorFunction<T, R> {
  validateWritesInFlight(writesInFlight);
  return (source) =>
    new Observable<R>((subscriber) => {
      const state: State<T, S> = {
        waiting: [],
        toWrite: [],
        written: [],
        lane: null,
        write: null,
        sourceDone: false,
        writeFailed: null,
      };
      const pump = pumpOf(state, stages, writesInFlight, subscriber);
      const upstream = source.subscribe({
        next: (item) => {
          state.waiting.push(item);
          pump();
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          state.sourceDone = true;
          pump();
        },
      });
      return () => {
        upstream.unsubscribe();
        state.lane?.unsubscribe();
        state.write?.unsubscribe();
      };
    });
}

/** The scheduler of `writeBehind`: a `pump()` after every change starts what may start. */
function pumpOf<T, S, R>(
  state: State<T, S>,
  stages: WriteBehindStages<T, S, R>,
  writesInFlight: number,
  subscriber: Subscriber<R>,
): () => void {
  let pumping = false;
  let again = false;
  // Scored but not finished, outside the lane (the lane's own item is not counted: it is being worked on).
  const unfinished = (): number => state.toWrite.length + (state.write ? 1 : 0) + state.written.length;

  const startWrite = (item: S): void => {
    const sub = of(item)
      .pipe(stages.write)
      .subscribe({
        next: (done) => state.written.push(done),
        error: (err: unknown) => {
          state.write = null;
          state.writeFailed = { err };
          pump();
        },
        complete: () => {
          state.write = null;
          pump();
        },
      });
    if (!sub.closed) state.write = sub;
  };

  const startLane = <X>(work: Observable<X>, onValue: (value: X) => void): void => {
    let finished = false;
    const sub = work.subscribe({
      next: onValue,
      error: (err: unknown) => subscriber.error(err),
      complete: () => {
        finished = true;
        state.lane = null;
        pump();
      },
    });
    if (!finished && !sub.closed) state.lane = sub;
  };

  const step = (): void => {
    if (subscriber.closed) return;
    const { waiting, toWrite, written } = state;
    if (state.write === null && state.writeFailed === null && toWrite.length > 0) {
      startWrite(toWrite.shift() as S);
    }
    if (state.lane !== null || subscriber.closed) return;
    if (written.length > 0) {
      startLane(of(written.shift() as S).pipe(stages.finish), (out) => subscriber.next(out));
    } else if (state.writeFailed !== null) {
      subscriber.error(state.writeFailed.err);
    } else if (waiting.length > 0 && unfinished() <= writesInFlight) {
      startLane(of(waiting.shift() as T).pipe(stages.score), (scored) => toWrite.push(scored));
    } else if (state.sourceDone && waiting.length === 0 && unfinished() === 0) {
      subscriber.complete();
    }
  };

  const pump = (): void => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    do {
      again = false;
      step();
    } while (again);
    pumping = false;
  };
  return pump;
}
