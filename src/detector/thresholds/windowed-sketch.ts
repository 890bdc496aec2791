import { z } from 'zod';
import { DEFAULT_SUB_WINDOWS } from '../../config/threshold-rules.js';
import { InvalidOptionError, SerializationError } from '../../errors.js';
import { quantileIndex } from './quantile-index.js';
import {
  binValue,
  createSketch,
  mergeInto,
  type Sketch,
  type SketchState,
  sketchFromState,
  sketchStateSchema,
  sketchToState,
} from './sketch.js';

/** Options of a `WindowedSketch`. */
export interface WindowedSketchOptions {
  /** Most recent observations the view reflects (at most); integer ≥ `subWindows`. */
  readonly window: number;
  /**
   * Rotating sub-sketches (default 4). Once warm, the view holds between `window·(k−1)/k` and `window`
   * most recent observations; old ones age out in steps of `window/k`.
   */
  readonly subWindows?: number;
  /** Relative value accuracy of the DDSketch (default 0.005, i.e. ±0.5 % of each value). */
  readonly relativeAccuracy?: number;
}

/** JSON form of a `WindowedSketch`. */
export interface WindowedSketchState {
  readonly window: number;
  readonly subWindows: number;
  readonly relativeAccuracy: number;
  /** Index of the sub-sketch currently filling. */
  readonly head: number;
  readonly sketches: readonly SketchState[];
}

/** zod schema of `WindowedSketchState`. */
export const windowedSketchStateSchema = z.strictObject({
  window: z.int().positive(),
  subWindows: z.int().positive(),
  relativeAccuracy: z.number().positive().lt(1),
  head: z.int().nonnegative(),
  sketches: z.array(sketchStateSchema),
});

export { DEFAULT_SUB_WINDOWS };
/** Default relative accuracy (±0.5 %: 0.05 nats at a log-likelihood of −10). */
export const DEFAULT_RELATIVE_ACCURACY = 0.005;

/**
 * Recent-data quantile sketch: a ring of `k` DDSketches of `ceil(window/k)` observations each. Adds go
 * to the head sketch; when it is full the ring rotates and the oldest sketch is replaced by an empty one.
 * Queries run on the merge of all `k` (cached until the next add), so recency costs no hand-written sketch.
 */
export class WindowedSketch {
  readonly window: number;
  readonly subWindows: number;
  readonly relativeAccuracy: number;
  /** Observations per sub-sketch. */
  readonly subSize: number;
  private sketches: Sketch[];
  private head = 0;
  private view: Sketch | undefined;

  constructor(options: WindowedSketchOptions) {
    const { window } = options;
    const subWindows = options.subWindows ?? DEFAULT_SUB_WINDOWS;
    const relativeAccuracy = options.relativeAccuracy ?? DEFAULT_RELATIVE_ACCURACY;
    if (!Number.isInteger(subWindows) || subWindows < 2) {
      throw new InvalidOptionError(`subWindows must be an integer >= 2, got ${subWindows}`);
    }
    if (!Number.isInteger(window) || window < subWindows) {
      throw new InvalidOptionError(`window must be an integer >= subWindows (${subWindows}), got ${window}`);
    }
    if (!(relativeAccuracy > 0 && relativeAccuracy < 0.5)) {
      throw new InvalidOptionError(`relativeAccuracy must be in (0, 0.5), got ${relativeAccuracy}`);
    }
    this.window = window;
    this.subWindows = subWindows;
    this.relativeAccuracy = relativeAccuracy;
    this.subSize = Math.ceil(window / subWindows);
    this.sketches = Array.from({ length: subWindows }, () => createSketch(relativeAccuracy));
  }

  /** Observations the view holds once the ring has filled at least once. */
  get minFullCount(): number {
    return (this.subWindows - 1) * this.subSize;
  }

  /** Observations currently in the view. */
  get count(): number {
    let n = 0;
    for (const s of this.sketches) n += s.count;
    return n;
  }

  /** Adds one finite value (non-finite values are ignored). */
  add(value: number): void {
    if (!Number.isFinite(value)) return;
    let current = this.sketches[this.head]!;
    if (current.count >= this.subSize) {
      this.head = (this.head + 1) % this.subWindows;
      current = createSketch(this.relativeAccuracy);
      this.sketches[this.head] = current;
    }
    current.accept(value);
    this.view = undefined;
  }

  /** Value at quantile `q` ∈ [0, 1] of the view (within relative accuracy), NaN when empty. */
  quantile(q: number): number {
    return this.merged().getValueAtQuantile(q);
  }

  /**
   * Mid-ranks of `xs` among the view: #{v < x} + ½·#{v tied with x}, where values in the same sketch bin
   * count as ties. DDSketch has no rank query, so each count is found by bisection over integer ranks
   * with `getValueAtQuantile` (O(log n) quantile queries), memoised per bin within the call.
   * −∞ ranks 0, +∞ ranks n; NaN yields NaN.
   */
  midRanks(xs: ArrayLike<number>): Float64Array {
    const view = this.merged();
    const n = view.count;
    const out = new Float64Array(xs.length);
    const memo = new Map<number, number>();
    const at = rankValues(view, n);
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      if (Number.isNaN(x)) out[i] = Number.NaN;
      else if (n === 0 || x === Number.NEGATIVE_INFINITY) out[i] = 0;
      else if (x === Number.POSITIVE_INFINITY) out[i] = n;
      else {
        const v = binValue(view, x);
        let r = memo.get(v);
        if (r === undefined) {
          const below = countRanks(at, n, (q) => q < v);
          const atMost = countRanks(at, n, (q) => q <= v);
          r = below + (atMost - below) / 2;
          memo.set(v, r);
        }
        out[i] = r;
      }
    }
    return out;
  }

  /** JSON-safe state. */
  getState(): WindowedSketchState {
    return {
      window: this.window,
      subWindows: this.subWindows,
      relativeAccuracy: this.relativeAccuracy,
      head: this.head,
      sketches: this.sketches.map(sketchToState),
    };
  }

  /** Restores `getState()` output; throws `SerializationError` if it is malformed or from other options. */
  setState(state: unknown): void {
    const parsed = windowedSketchStateSchema.safeParse(state);
    if (!parsed.success) {
      throw new SerializationError(`invalid windowed sketch state: ${z.prettifyError(parsed.error)}`);
    }
    const s = parsed.data;
    if (
      s.window !== this.window ||
      s.subWindows !== this.subWindows ||
      s.relativeAccuracy !== this.relativeAccuracy ||
      s.sketches.length !== this.subWindows ||
      s.head >= this.subWindows
    ) {
      throw new SerializationError(
        `sketch state was saved with window=${s.window}, subWindows=${s.subWindows}, ` +
          `relativeAccuracy=${s.relativeAccuracy} but this policy uses window=${this.window}, ` +
          `subWindows=${this.subWindows}, relativeAccuracy=${this.relativeAccuracy}; start fresh or restore matching options`,
        { context: { saved: { window: s.window, subWindows: s.subWindows } } },
      );
    }
    this.sketches = s.sketches.map((st) => sketchFromState(st, this.relativeAccuracy));
    this.head = s.head;
    this.view = undefined;
  }

  private merged(): Sketch {
    if (this.view === undefined) {
      const view = createSketch(this.relativeAccuracy);
      for (const s of this.sketches) mergeInto(view, s);
      this.view = view;
    }
    return this.view;
  }
}

/**
 * `valueAtRank` of the view, memoised for one `midRanks` call: every bisection starts at the same middle
 * ranks, so the batch's values share most quantile queries. Each query bisects running bin counts
 * (`quantileIndex`, the library's value bit for bit) instead of walking the sketch's bins.
 */
function rankValues(view: Sketch, n: number): (r: number) => number {
  const memo = new Map<number, number>();
  const valueAt = quantileIndex(view);
  return (r) => {
    let v = memo.get(r);
    if (v === undefined) {
      v = valueAt(rankQuantile(n, r));
      memo.set(r, v);
    }
    return v;
  };
}

/** Number of integer ranks r ∈ [0, n) whose sketch value satisfies the monotone predicate `pred`. */
function countRanks(at: (r: number) => number, n: number, pred: (value: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(at(mid))) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The quantile of the `r`-th smallest observation's sketch value: the middle of the rank cell,
 * (r + ½)/(n − 1), so floating-point rounding of q·(n − 1) cannot slip into the neighbouring rank.
 */
function rankQuantile(n: number, r: number): number {
  return n <= 1 ? 0 : Math.min(1, (r + 0.5) / (n - 1));
}
