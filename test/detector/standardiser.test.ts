import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { Standardiser } from '../../src/detector/standardiser.js';
import { InvalidOptionError, SerializationError } from '../../src/errors.js';

/** `n` rows of `d` features: feature j ~ N(means[j], sds[j]²), seeded. */
function rows(seed: number, n: number, means: number[], sds: number[]): Float32Array {
  const rng = createRng(seed);
  const d = means.length;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = means[j]! + sds[j]! * rng.normal();
  return out;
}

/** Float64 batch mean and population variance per column. */
function columnStats(x: Float32Array, n: number, d: number): { mean: number[]; variance: number[] } {
  const mean = Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i * d + j]!;
    return s / n;
  });
  const variance = mean.map((m, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (x[i * d + j]! - m) ** 2;
    return s / n;
  });
  return { mean, variance };
}

describe('Standardiser', () => {
  const means = [1000, -3, 0.001];
  const sds = [250, 0.5, 1e-4];

  it('matches float64 batch mean and variance when fed in uneven batches', () => {
    const x = rows(1, 5000, means, sds);
    const s = new Standardiser({ dim: 3, mode: 'freeze' });
    let offset = 0;
    for (const size of [1, 7, 992, 3000, 1000]) {
      s.update(x.subarray(offset * 3, (offset + size) * 3), size, 3);
      offset += size;
    }
    const { mean, variance } = columnStats(x, 5000, 3);
    const std = s.std();
    s.getMean().forEach((m, j) => {
      expect(m).toBeCloseTo(mean[j]!, 9);
    });
    std.forEach((sd, j) => {
      expect(sd / Math.sqrt(variance[j]!)).toBeCloseTo(1, 10);
    });
    const z = s.transform(x, 5000, 3);
    const zs = columnStats(z, 5000, 3);
    zs.mean.forEach((m) => {
      expect(Math.abs(m)).toBeLessThan(1e-5);
    });
    zs.variance.forEach((v) => {
      expect(v).toBeCloseTo(1, 4);
    });
    const logDet = -Array.from(std).reduce((a, sd) => a + Math.log(sd), 0);
    expect(s.logDetJacobian()).toBeCloseTo(logDet, 12);
    // Σ −log σ for the generating σ, within sampling error.
    expect(s.logDetJacobian()).toBeCloseTo(-sds.reduce((a, sd) => a + Math.log(sd), 0), 1);
  });

  it('is the identity before any data', () => {
    const s = new Standardiser({ dim: 2, mode: 'freeze' });
    const x = new Float32Array([3, -4]);
    expect(Array.from(s.transform(x, 1, 2))).toEqual([3, -4]);
    expect(s.logDetJacobian()).toBe(0);
  });

  it('stops updating once frozen, by call or after freezeAfter rows whatever the batching', () => {
    const x = rows(2, 300, [5, 5], [1, 1]);
    const a = new Standardiser({ dim: 2, mode: 'freeze', freezeAfter: 100 });
    a.update(x.subarray(0, 2 * 70), 70, 2);
    expect(a.frozen).toBe(false);
    a.update(x.subarray(2 * 70), 230, 2);
    expect(a.frozen).toBe(true);
    expect(a.observations).toBe(100);
    const exact = columnStats(x, 100, 2);
    a.getMean().forEach((m, j) => {
      expect(m).toBeCloseTo(exact.mean[j]!, 10);
    });
    const b = new Standardiser({ dim: 2, mode: 'freeze' });
    b.update(x, 100, 2);
    b.freeze();
    const before = b.getState();
    b.update(rows(3, 50, [100, 100], [1, 1]), 50, 2);
    expect(b.getState()).toEqual(before);
  });

  it('tracks a level shift in ema mode and ignores freeze()', () => {
    const alpha = 0.01;
    const s = new Standardiser({ dim: 1, mode: 'ema', emaAlpha: alpha });
    s.update(rows(4, 2000, [0], [1]), 2000, 1);
    expect(Math.abs(s.getMean()[0]!)).toBeLessThan(0.2);
    s.freeze();
    expect(s.frozen).toBe(false);
    // After ~7/α rows the old level's weight is (1−α)^700 ≈ e^−7.
    s.update(rows(5, 700, [10], [2]), 700, 1);
    expect(s.getMean()[0]!).toBeGreaterThan(9.5);
    expect(s.getMean()[0]!).toBeLessThan(10.5);
    expect(s.std()[0]!).toBeGreaterThan(1.6);
    expect(s.std()[0]!).toBeLessThan(2.6);
    // Whereas freeze mode keeps the warm-up statistics.
    const f = new Standardiser({ dim: 1, mode: 'freeze', freezeAfter: 2000 });
    f.update(rows(4, 2000, [0], [1]), 2000, 1);
    f.update(rows(5, 700, [10], [2]), 700, 1);
    expect(Math.abs(f.getMean()[0]!)).toBeLessThan(0.2);
  });

  it('guards zero variance with minStd', () => {
    const s = new Standardiser({ dim: 2, mode: 'freeze', minStd: 1e-3 });
    const x = new Float32Array([7, 1, 7, 2, 7, 3]);
    s.update(x, 3, 2);
    expect(s.std()[0]).toBe(1e-3);
    const z = s.transform(new Float32Array([7.001, 2]), 1, 2);
    expect(z[0]).toBeCloseTo(1, 2);
    expect(Number.isFinite(z[1]!)).toBe(true);
    expect(s.logDetJacobian()).toBeCloseTo(-Math.log(1e-3) - Math.log(Math.sqrt(2 / 3)), 10);
  });

  it('round-trips its state through JSON and rejects other shapes', () => {
    const s = new Standardiser({ dim: 3, mode: 'freeze' });
    s.update(rows(6, 500, means, sds), 500, 3);
    s.freeze();
    const copy = new Standardiser({ dim: 3, mode: 'freeze' });
    copy.setState(JSON.parse(JSON.stringify(s.getState())));
    const probe = rows(7, 10, means, sds);
    expect(copy.transform(probe, 10, 3)).toEqual(s.transform(probe, 10, 3));
    expect(copy.frozen).toBe(true);
    expect(() => new Standardiser({ dim: 2, mode: 'freeze' }).setState(s.getState())).toThrow(
      SerializationError,
    );
    expect(() => copy.setState({ version: 2 })).toThrow(SerializationError);
  });

  it('validates options and shapes', () => {
    expect(() => new Standardiser({ dim: 0, mode: 'freeze' })).toThrow(InvalidOptionError);
    expect(() => new Standardiser({ dim: 1, mode: 'ema', emaAlpha: 1 })).toThrow(/emaAlpha/);
    expect(() => new Standardiser({ dim: 1, mode: 'freeze', minStd: 0 })).toThrow(/minStd/);
    const s = new Standardiser({ dim: 2, mode: 'freeze' });
    expect(() => s.transform(new Float32Array(4), 2, 3)).toThrow(/features/);
    expect(() => s.update(new Float32Array(3), 2, 2)).toThrow(InvalidOptionError);
  });
});
