import { describe, expect, it } from 'vitest';
import { createRng } from '../../../src/core/rng.js';
import { quantileIndex } from '../../../src/detector/thresholds/quantile-index.js';
import { createSketch, mergeInto } from '../../../src/detector/thresholds/sketch.js';

/** Every value the index gives equals the library's, bit for bit (Object.is), at every rank and more. */
function expectSameQuantiles(sketch: ReturnType<typeof createSketch>): void {
  const valueAt = quantileIndex(sketch);
  const n = sketch.count;
  const qs = [-0.1, 0, 1, 1.1, Number.NaN, 0.5, 1e-12, 1 - 1e-12];
  for (let r = 0; r < n; r++) qs.push(n <= 1 ? 0 : Math.min(1, (r + 0.5) / (n - 1)), r / Math.max(1, n - 1));
  for (const q of qs) expect(Object.is(valueAt(q), sketch.getValueAtQuantile(q))).toBe(true);
}

describe('quantileIndex', () => {
  it('gives getValueAtQuantile’s value for both signs, zeros, weights and collapsed stores', () => {
    const rng = createRng(9);
    for (const [binLimit, spread] of [
      [2048, 3],
      [2048, 30],
      [64, 50],
      [16, 5],
    ] as const) {
      const sketch = createSketch(0.005, binLimit);
      for (let i = 0; i < 1500; i++) {
        const x = rng.normal() * spread - spread / 3;
        sketch.accept(i % 97 === 0 ? 0 : x, i % 13 === 0 ? 2.5 : 1);
      }
      expectSameQuantiles(sketch);
    }
  });

  it('gives it for a merged view, one sign only, one value and an empty sketch', () => {
    const a = createSketch(0.01);
    const b = createSketch(0.01);
    for (let i = 1; i <= 300; i++) a.accept(-i / 7);
    for (let i = 1; i <= 200; i++) b.accept(i * 3);
    const view = createSketch(0.01);
    mergeInto(view, a);
    mergeInto(view, b);
    expectSameQuantiles(view);
    expectSameQuantiles(a);
    const one = createSketch(0.01);
    one.accept(-4);
    expectSameQuantiles(one);
    expectSameQuantiles(createSketch(0.01));
  });

  it('falls back to the library when a bin is not a finite count', () => {
    const sketch = createSketch(0.01);
    for (let i = 1; i <= 50; i++) sketch.accept(i);
    (sketch.store.bins as number[])[3] = Number.NaN;
    expectSameQuantiles(sketch);
  });
});
