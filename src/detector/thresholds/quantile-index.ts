import type { Sketch } from './sketch.js';

type Store = Sketch['store'];

/**
 * Running counts of a store's bins, added in the order `DenseStore.keyAtRank` adds them (so the same
 * floats); null when a bin is not a finite count (then only the library's walk is exact).
 */
function prefixCounts(store: Store): Float64Array | null {
  const { bins } = store;
  const out = new Float64Array(bins.length);
  let running = 0;
  for (let i = 0; i < bins.length; i++) {
    const bin = bins[i];
    if (typeof bin !== 'number' || !Number.isFinite(bin) || bin < 0) return null;
    running += bin;
    out[i] = running;
  }
  return out;
}

/**
 * `DenseStore.keyAtRank(rank, lower)` by bisection over the running counts: the first bin whose running
 * count exceeds `rank` (`lower`) or reaches `rank + 1` (not `lower`), else the store's `maxKey`. The
 * running counts never decrease, so the first such bin is the one the library's linear walk stops at.
 */
function keyAtRank(store: Store, prefix: Float64Array, rank: number, lower: boolean): number {
  const bound = rank + 1;
  let lo = 0;
  let hi = prefix.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = prefix[mid]!;
    if (lower ? c > rank : c >= bound) hi = mid;
    else lo = mid + 1;
  }
  return lo < prefix.length ? lo + store.offset : store.maxKey;
}

/**
 * `view.getValueAtQuantile` for a sketch that does not change while the returned function is used, with
 * each store's bin walk (O(bins) per query) replaced by a bisection over running counts computed once:
 * the same value, bit for bit (the same ranks, keys and `mapping.value` calls; see
 * test/detector/thresholds/quantile-index.test.ts). Falls back to the library when a store holds a bin
 * that is not a finite count. The threshold's `midRanks` makes hundreds of such queries per batch.
 */
export function quantileIndex(view: Sketch): (quantile: number) => number {
  const positive = prefixCounts(view.store);
  const negative = prefixCounts(view.negativeStore);
  if (positive === null || negative === null) return (q) => view.getValueAtQuantile(q);
  const { store, negativeStore, mapping } = view;
  return (quantile) => {
    // As BaseDDSketch.getValueAtQuantile (sketches-js 2), with the stores' keyAtRank above.
    if (quantile < 0 || quantile > 1 || view.count === 0) return Number.NaN;
    const rank = quantile * (view.count - 1);
    if (rank < negativeStore.count) {
      const reversedRank = negativeStore.count - rank - 1;
      return -mapping.value(keyAtRank(negativeStore, negative, reversedRank, false));
    }
    if (rank < view.zeroCount + negativeStore.count) return 0;
    return mapping.value(keyAtRank(store, positive, rank - view.zeroCount - negativeStore.count, true));
  };
}
