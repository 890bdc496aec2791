import {
  concat,
  concatMap,
  defer,
  from,
  identity,
  ignoreElements,
  isObservable,
  type MonoTypeOperatorFunction,
  type ObservableInput,
  of,
} from 'rxjs';
import { failIn, type StageFailure, stageFailure } from './errors.js';

const isAwaitable = (value: unknown): value is ObservableInput<unknown> =>
  isObservable(value) ||
  (typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function');

/**
 * Calls `callback` with each item, waits for what it returns when that is a promise (or an Observable),
 * then passes the item on: one item at a time, in order. Fails with stage `callback` when the callback
 * throws or its promise rejects. Without a callback the items pass through.
 */
export function notify<T>(
  callback: ((item: T) => unknown) | undefined,
  fail: StageFailure = stageFailure(),
): MonoTypeOperatorFunction<T> {
  if (callback === undefined) return identity;
  return concatMap((item) =>
    defer(() => {
      const out = callback(item);
      return isAwaitable(out) ? concat(from(out).pipe(ignoreElements()), of(item)) : of(item);
    }).pipe(failIn('callback', fail)),
  );
}
