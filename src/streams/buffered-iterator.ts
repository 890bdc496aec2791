/**
 * Async iterators that can also hand out items they already hold without a promise. A replay file is read
 * a chunk (hundreds of lines) at a time, so most records are at hand when asked for; awaiting an async
 * generator per record cost about a microsecond of promise machinery each (issue 14, fourth round).
 * `pullSource` takes items with `tryNext` while it returns one and awaits `next` only when it does not.
 */

/** An async iterator whose `tryNext` returns the next result when no waiting is needed. */
export interface BufferedAsyncIterator<T> extends AsyncIterableIterator<T> {
  /**
   * The next result, exactly what `next()` would resolve to, when it is at hand; undefined when it must
   * be awaited with `next()`. Throws what `next()` would reject with.
   */
  tryNext(): IteratorResult<T> | undefined;
}

/** True when `it` has a `tryNext` (see `BufferedAsyncIterator`). */
export function isBuffered<T>(it: AsyncIterator<T>): it is BufferedAsyncIterator<T> {
  return typeof (it as Partial<BufferedAsyncIterator<T>>).tryNext === 'function';
}

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined });

/**
 * A buffered iterator over `source` that keeps items for which `keep` is true and ends, instead of
 * throwing, at `source`'s first error, which it passes to `onError` (`onError` undefined: errors pass
 * through). Synchronous where `source` is, so wrapping a buffered source keeps it buffered.
 */
export function filterUntilError<T>(
  source: AsyncIterable<T>,
  keep: ((item: T) => boolean) | undefined,
  onError?: (error: unknown) => void,
): BufferedAsyncIterator<T> {
  const inner = source[Symbol.asyncIterator]();
  let finished = false;
  const fail = (error: unknown): IteratorResult<T> => {
    finished = true;
    if (onError === undefined) throw error;
    onError(error);
    return DONE;
  };
  /** The result to hand out for `step`, or null when `keep` drops it. */
  const accept = (step: IteratorResult<T>): IteratorResult<T> | null => {
    if (step.done === true) {
      finished = true;
      return DONE;
    }
    return keep === undefined || keep(step.value) ? step : null;
  };
  const it: BufferedAsyncIterator<T> = {
    tryNext() {
      while (!finished) {
        try {
          const step = isBuffered(inner) ? inner.tryNext() : undefined;
          if (step === undefined) return undefined;
          const out = accept(step);
          if (out !== null) return out;
        } catch (error) {
          return fail(error);
        }
      }
      return DONE;
    },
    async next() {
      while (!finished) {
        const now = it.tryNext();
        if (now !== undefined) return now;
        try {
          const out = accept(await inner.next());
          if (out !== null) return out;
        } catch (error) {
          return fail(error);
        }
      }
      return DONE;
    },
    async return() {
      finished = true;
      await inner.return?.();
      return DONE;
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}
