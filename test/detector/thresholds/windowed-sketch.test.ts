import { describe, expect, it } from 'vitest';
import { binValue, createSketch, mergeInto } from '../../../src/detector/thresholds/sketch.js';
import { WindowedSketch } from '../../../src/detector/thresholds/windowed-sketch.js';
import { InvalidOptionError, SerializationError } from '../../../src/errors.js';
import { exactQuantile, normals } from './helpers.js';

const ACC = 0.005;

function filled(values: readonly number[], window: number): WindowedSketch {
  const s = new WindowedSketch({ window, relativeAccuracy: ACC });
  for (const v of values) s.add(v);
  return s;
}

describe('mergeInto', () => {
  it('merges negative values that sketches-js#22 drops', () => {
    const a = createSketch(ACC);
    const b = createSketch(ACC);
    for (let i = 1; i <= 100; i++) {
      a.accept(-i);
      b.accept(-i - 100);
    }
    mergeInto(a, b);
    expect(a.count).toBe(200);
    expect(a.negativeStore.count).toBe(200);
    // The median of −1..−200 lies between −101 and −100.
    expect(a.getValueAtQuantile(0.5)).toBeGreaterThanOrEqual(-101 * (1 + ACC));
    expect(a.getValueAtQuantile(0.5)).toBeLessThanOrEqual(-100 * (1 - ACC));
    expect(Math.abs(a.getValueAtQuantile(0) + 200)).toBeLessThanOrEqual(200 * ACC);
  });
});

describe('WindowedSketch', () => {
  it('matches exact quantiles of mixed-sign data across sub-sketches within relative accuracy', () => {
    const values = normals(1, 8000, -2, 5);
    const s = filled(values, 8000);
    expect(s.count).toBe(8000);
    for (const q of [0.001, 0.01, 0.1, 0.5, 0.9, 0.99]) {
      const exact = exactQuantile(values, q);
      expect(Math.abs(s.quantile(q) - exact)).toBeLessThanOrEqual(2 * ACC * Math.abs(exact) + 1e-9);
    }
  });

  it('gives mid-ranks within the mass of one sketch bin of the exact rank', () => {
    const values = normals(2, 5000, -10, 3);
    const s = filled(values, 5000);
    const probes = [-30, -20, -16, -13, -10, -7, -4, 0, 5, -Infinity, Infinity];
    const ranks = s.midRanks(probes);
    probes.forEach((x, i) => {
      const below = values.filter((v) => v < x).length;
      const nearby = values.filter((v) => Math.abs(v - x) <= 2 * ACC * Math.abs(x)).length;
      expect(Math.abs(ranks[i]! - below)).toBeLessThanOrEqual(nearby / 2 + 1);
    });
    expect(ranks[probes.length - 2]).toBe(0);
    expect(ranks[probes.length - 1]).toBe(5000);
    expect(Number.isNaN(s.midRanks([Number.NaN])[0]!)).toBe(true);
  });

  it('counts ties in a bin as half', () => {
    const s = filled([-1, -2, -4, -4, -4, -8], 100);
    // #{< −4} = 1 (−8) plus half of the three −4s.
    expect(Array.from(s.midRanks([-4, -100, -0.5]))).toEqual([2.5, 0, 6]);
  });

  it('forgets old data after `window` new observations and keeps at least window·(k−1)/k', () => {
    const s = new WindowedSketch({ window: 1000, subWindows: 4, relativeAccuracy: ACC });
    for (let i = 0; i < 3000; i++) s.add(-100);
    // Ring: 4 full sub-sketches of −100. Each 250 new values replace one of them.
    for (let i = 0; i < 750; i++) s.add(-1);
    expect(s.quantile(0)).toBeCloseTo(-100, 0);
    expect(s.count).toBe(1000);
    s.add(-1);
    // The last old sub-sketch is gone well within `window` new values.
    expect(s.quantile(0)).toBeCloseTo(-1, 2);
    expect(s.count).toBe(751);
    for (let i = 0; i < 5000; i++) {
      s.add(-1);
      if (i % 97 === 0) {
        expect(s.count).toBeGreaterThanOrEqual(s.minFullCount);
        expect(s.count).toBeLessThanOrEqual(1000);
      }
    }
  });

  it('ignores non-finite values', () => {
    const s = filled([Number.NaN, Number.POSITIVE_INFINITY, -1], 100);
    expect(s.count).toBe(1);
  });

  it('round-trips its state through JSON', () => {
    const values = normals(3, 3000, -5, 4);
    const s = filled(values, 2000);
    const copy = new WindowedSketch({ window: 2000, relativeAccuracy: ACC });
    copy.setState(JSON.parse(JSON.stringify(s.getState())));
    expect(copy.count).toBe(s.count);
    for (const q of [0, 0.01, 0.5, 1]) expect(copy.quantile(q)).toBe(s.quantile(q));
    expect(Array.from(copy.midRanks([-12, -5, 3]))).toEqual(Array.from(s.midRanks([-12, -5, 3])));
    // Both continue identically.
    for (const v of normals(4, 700, -5, 4)) {
      s.add(v);
      copy.add(v);
    }
    expect(copy.quantile(0.1)).toBe(s.quantile(0.1));
  });

  it('rejects states from other options or malformed ones', () => {
    const s = filled([-1, -2], 100);
    const other = new WindowedSketch({ window: 200, relativeAccuracy: ACC });
    expect(() => other.setState(s.getState())).toThrow(SerializationError);
    expect(() => other.setState({ nope: true })).toThrow(SerializationError);
  });

  it('validates options', () => {
    expect(() => new WindowedSketch({ window: 3 })).toThrow(InvalidOptionError);
    expect(() => new WindowedSketch({ window: 100, subWindows: 1 })).toThrow(InvalidOptionError);
    expect(() => new WindowedSketch({ window: 100, relativeAccuracy: 0 })).toThrow(/relativeAccuracy/);
  });
});

describe('WindowedSketch.midRanks: memoised quantile queries', () => {
  it('equals a plain bisection over the quantiles of the same bins, for every value of a batch', () => {
    const values = normals(11, 3000, -10, 3);
    const sketch = filled(values, 4000); // no rotation yet: the view holds every value
    const ref = createSketch(ACC);
    for (const v of values) ref.accept(v);
    const n = ref.count;
    const at = (r: number): number => ref.getValueAtQuantile(Math.min(1, (r + 0.5) / (n - 1)));
    const count = (pred: (v: number) => boolean): number => bisectRanks(at, n, pred);
    const xs = normals(12, 300, -10, 4);
    const expected = xs.map((x) => {
      const v = binValue(ref, x);
      const below = count((q) => q < v);
      return below + (count((q) => q <= v) - below) / 2;
    });
    expect(Array.from(sketch.midRanks(xs))).toEqual(expected);
  });

  it('ranks a batch with ties, both signs, zero and non-finite values like a bisection of [0, n) each (issue 14: bracketed bisections)', () => {
    const sketch = filled([...normals(21, 5000, -3, 6), ...Array(200).fill(0)], 2000); // rotated
    const n = sketch.count;
    const at = (r: number): number => sketch.quantile(n <= 1 ? 0 : Math.min(1, (r + 0.5) / (n - 1)));
    const count = (pred: (v: number) => boolean): number => bisectRanks(at, n, pred);
    const bins = createSketch(ACC);
    const xs = [...normals(22, 400, -3, 8), 0, 0, -1e-12, 1e9, -1e9, ...normals(23, 50, -3, 0.01)];
    const expected = xs.map((x) => {
      const v = binValue(bins, x);
      const below = count((q) => q < v);
      return below + (count((q) => q <= v) - below) / 2;
    });
    const withSpecials = [...xs, Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
    const got = Array.from(sketch.midRanks(withSpecials));
    expect(got.slice(0, xs.length)).toEqual(expected);
    expect(got.slice(xs.length)).toEqual([Number.NaN, 0, n]);
  });
});

/** Reference: the number of ranks r ∈ [0, n) whose value satisfies the monotone `pred`, by plain bisection. */
function bisectRanks(at: (r: number) => number, n: number, pred: (v: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(at(mid))) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
