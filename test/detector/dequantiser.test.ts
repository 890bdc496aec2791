import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { DEQUANTISE_MIN_WIDTH, Dequantiser, noiseWidth } from '../../src/detector/dequantiser.js';
import { InvalidOptionError } from '../../src/errors.js';

const rng = createRng(9);
const continuous = Array.from({ length: 256 }, () => rng.normal());
/** Integer counts 0–20, standardised with σ = 5: a grid of step 0.2. */
const integers = Array.from({ length: 256 }, () => Math.floor(rng.uniform() * 21) / 5);
/** Continuous, but 30 % of the values piled up at the lower bound. */
const atBound = Array.from({ length: 256 }, (_, i) => (i % 10 < 3 ? -1.5 : -1.5 + Math.abs(rng.normal())));

describe('noiseWidth (discrete-feature detection)', () => {
  it('leaves continuous features alone', () => {
    expect(noiseWidth(continuous)).toBe(0);
  });

  it('spreads an integer grid over one step', () => {
    expect(noiseWidth(integers)).toBeCloseTo(0.2, 6);
  });

  it('spreads a point mass of a continuous feature over the least width', () => {
    expect(noiseWidth(atBound)).toBe(DEQUANTISE_MIN_WIDTH);
  });

  it('treats a constant feature as discrete with the least width', () => {
    expect(noiseWidth(Array.from({ length: 64 }, () => 3))).toBe(DEQUANTISE_MIN_WIDTH);
  });
});

describe('Dequantiser', () => {
  const rows = (n: number): Float32Array => {
    const out = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) out.set([continuous[i % 256]!, integers[i % 256]!, atBound[i % 256]!], i * 3);
    return out;
  };

  it('waits for its detection rows, then adds noise within ±h/2 to the discrete features only', () => {
    const dq = new Dequantiser(3, 256);
    dq.observe(rows(200));
    expect(dq.noiseWidths).toBeUndefined();
    const x = rows(64);
    expect(dq.apply(x, createRng(1))).toBe(x);
    dq.observe(rows(100));
    expect(Array.from(dq.noiseWidths!)).toEqual([0, expect.closeTo(0.2, 6), DEQUANTISE_MIN_WIDTH]);
    const noisy = dq.apply(x, createRng(1));
    expect(noisy).not.toBe(x);
    let moved = 0;
    for (let i = 0; i < x.length; i++) {
      const h = dq.noiseWidths![i % 3]!;
      const diff = Math.abs(noisy[i]! - x[i]!);
      expect(diff).toBeLessThanOrEqual(h / 2 + 1e-6);
      if (h === 0) expect(diff).toBe(0);
      if (diff > 0) moved++;
    }
    expect(moved).toBeGreaterThan(100);
    expect(Array.from(dq.apply(x, createRng(1)))).toEqual(Array.from(noisy));
  });

  it('rejects too few detection rows', () => {
    expect(() => new Dequantiser(3, 4)).toThrow(InvalidOptionError);
  });
});
