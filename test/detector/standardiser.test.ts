import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createRng } from '../../src/core/rng.js';
import { Standardiser } from '../../src/detector/standardiser.js';
import { standardiserOptions } from '../../src/detector/standardiser-config.js';
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

  it('is close to the float64 batch mean and σ, and the same whatever the batching', () => {
    const x = rows(1, 5000, means, sds);
    const s = new Standardiser({ dim: 3, mode: 'freeze' });
    let offset = 0;
    for (const size of [1, 7, 992, 3000, 1000]) {
      s.update(x.subarray(offset * 3, (offset + size) * 3), size, 3);
      offset += size;
    }
    const once = new Standardiser({ dim: 3, mode: 'freeze' });
    once.update(x, 5000, 3);
    expect(once.getState()).toEqual(s.getState());
    const { mean, variance } = columnStats(x, 5000, 3);
    const std = s.std();
    s.getMean().forEach((m, j) => {
      expect(Math.abs(m - mean[j]!) / sds[j]!).toBeLessThan(0.05);
    });
    std.forEach((sd, j) => {
      expect(sd / Math.sqrt(variance[j]!)).toBeGreaterThan(0.95);
      expect(sd / Math.sqrt(variance[j]!)).toBeLessThan(1.02);
    });
    const logDet = -Array.from(std).reduce((a, sd) => a + Math.log(sd), 0);
    expect(s.logDetJacobian()).toBeCloseTo(logDet, 12);
    // Σ −log σ for the generating σ, within sampling error.
    expect(s.logDetJacobian()).toBeCloseTo(-sds.reduce((a, sd) => a + Math.log(sd), 0), 1);
  });

  it('starts from the median and MAD of the first startRows rows', () => {
    const x = rows(8, 9, [0], [1]);
    const s = new Standardiser({ dim: 1, mode: 'freeze', startRows: 9 });
    s.update(x, 5, 1);
    const first = Array.from(x.subarray(0, 5)).sort((a, b) => a - b);
    expect(s.getMean()[0]).toBe(first[2]);
    const mad = first.map((v) => Math.abs(v - first[2]!)).sort((a, b) => a - b)[2]!;
    expect(s.std()[0]).toBeCloseTo(1.4826 * mad, 3);
    expect(s.getState().started).toBe(false);
    s.update(x.subarray(5), 4, 1);
    expect(s.getState()).toMatchObject({ started: true, count: 9, pending: [] });
  });

  it('ignores one absurd value in the start and bounds its effect after it', () => {
    const clean = rows(9, 2000, [5, -1], [2, 0.1]);
    const reference = new Standardiser({ dim: 2, mode: 'freeze' });
    reference.update(clean, 2000, 2);
    for (const at of [3, 127, 128, 500, 1999]) {
      const x = Float32Array.from(clean);
      x[at * 2] = 3e38;
      x[at * 2 + 1] = -3e38;
      const s = new Standardiser({ dim: 2, mode: 'freeze' });
      s.update(x, 2000, 2);
      const ratio = Array.from(s.std(), (sd, j) => sd / reference.std()[j]!);
      for (const r of ratio) {
        expect(r).toBeGreaterThan(0.97);
        // var grows by at most (1 + clip²/n) for the poisoned row n.
        expect(r).toBeLessThan(at < 128 ? 1.03 : Math.sqrt(1 + 64 / at) + 0.03);
      }
      s.getMean().forEach((m, j) => {
        expect(Math.abs(m - reference.getMean()[j]!) / reference.std()[j]!).toBeLessThan(0.1);
      });
    }
  });

  it('fits discrete features and recovers from a constant start', () => {
    const rng = createRng(10);
    const n = 4000;
    const x = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      x[i * 2] = rng.uniform() < 0.1 ? 1 : 0; // MAD 0: σ from the mean absolute deviation
      x[i * 2 + 1] = i < 200 ? 7 : 7 + 3 * rng.normal(); // constant through the start, then σ = 3
    }
    const s = new Standardiser({ dim: 2, mode: 'freeze' });
    s.update(x, n, 2);
    const [sd0, sd1] = s.std();
    expect(sd0).toBeGreaterThan(0.25);
    expect(sd0).toBeLessThan(0.35);
    expect(sd1).toBeGreaterThan(2.5);
    expect(sd1).toBeLessThan(3.2);
  });

  it('clamps rows to the bounds before learning, not when transforming', () => {
    const x = rows(11, 500, [50], [5]);
    x[300] = 1e9;
    const s = new Standardiser({ dim: 1, mode: 'freeze', lower: [0], upper: [100] });
    s.update(x, 500, 1);
    const free = new Standardiser({ dim: 1, mode: 'freeze' });
    const clamped = Float32Array.from(x);
    clamped[300] = 100;
    free.update(clamped, 500, 1);
    expect(s.getState()).toEqual(free.getState());
    const z = s.transform(new Float32Array([1e9]), 1, 1);
    expect(z[0]).toBeCloseTo((1e9 - s.getMean()[0]!) / s.std()[0]!, -3);
    expect(() => new Standardiser({ dim: 1, mode: 'freeze', lower: [1], upper: [1] })).toThrow(/below/);
    expect(() => new Standardiser({ dim: 2, mode: 'freeze', lower: [1] })).toThrow(/one per feature/);
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
    // Frozen before startRows (128): the statistics are the robust start of those 100 rows.
    a.getMean().forEach((m, j) => {
      const col = Array.from({ length: 100 }, (_, i) => x[i * 2 + j]!).sort((p, q) => p - q);
      expect(m).toBe((col[49]! + col[50]!) / 2);
    });
    expect(a.getState().started).toBe(true);
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
    // Column 1 is 1, 2, 3: median 2, MAD 1.
    expect(s.logDetJacobian()).toBeCloseTo(-Math.log(1e-3) - Math.log(1.482602218505602), 10);
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
    expect(() => copy.setState({ ...s.getState(), version: 3 })).toThrow(/this build reads 1 and 2/);
  });

  it('round-trips mid-start and continues exactly as without the round trip', () => {
    const x = rows(12, 300, means, sds);
    const a = new Standardiser({ dim: 3, mode: 'ema', emaAlpha: 0.01 });
    a.update(x, 50, 3);
    const b = new Standardiser({ dim: 3, mode: 'ema', emaAlpha: 0.01 });
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    a.update(x.subarray(150), 250, 3);
    b.update(x.subarray(150), 250, 3);
    expect(b.getState()).toEqual(a.getState());
    expect(() => b.setState({ ...a.getState(), started: false })).toThrow(/pending values/);
  });

  it('loads a version-1 state (plain running statistics) and clips updates after it', () => {
    const v1 = { version: 1, dim: 1, mode: 'freeze', count: 1, frozen: false, mean: [5], variance: [0] };
    const s = new Standardiser({ dim: 1, mode: 'freeze' });
    s.setState(v1);
    expect(s.getState()).toMatchObject({ version: 2, started: true, count: 1, pending: [] });
    // σ starts at 0 but rows that keep deviating grow it geometrically.
    s.update(rows(13, 500, [5], [2]), 500, 1);
    expect(s.std()[0]).toBeGreaterThan(1.6);
    expect(s.std()[0]).toBeLessThan(2.4);
    const fresh = new Standardiser({ dim: 1, mode: 'freeze' });
    fresh.setState({ ...v1, count: 0, mean: [0], variance: [1] });
    expect(fresh.getState()).toMatchObject({ started: false, count: 0 });
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

describe('standardiser config', () => {
  const load = (standardiser: Record<string, unknown>) =>
    loadConfig({ env: {}, overrides: { features: { fields: ['a', 'b'] }, standardiser } });

  it('maps standardiser.bounds to per-feature clamps and clip through', () => {
    const o = standardiserOptions(load({ clip: 5, bounds: { b: { min: 0 }, a: { max: 10 } } }));
    expect(o).toMatchObject({ dim: 2, clip: 5, lower: [-Infinity, 0], upper: [10, Infinity] });
    expect(standardiserOptions(load({}))).not.toHaveProperty('lower');
    const fromEnv = loadConfig({
      env: { FLOWSENTINEL_FEATURES__FIELDS: '["a","b"]', FLOWSENTINEL_STANDARDISER__BOUNDS__B__MAX: '7' },
    });
    expect(fromEnv.standardiser.bounds).toEqual({ b: { max: 7 } });
  });

  it('refuses bounds of unknown features and empty ranges, naming the key', () => {
    expect(() => standardiserOptions(load({ bounds: { c: { min: 0 } } }))).toThrow(
      /standardiser\.bounds: "c" is not a model feature; the model features are \["a","b"\]/,
    );
    expect(() => load({ bounds: { a: { min: 1, max: 1 } } })).toThrow(
      /standardiser\.bounds\.a.*min must be below max/,
    );
    expect(() => load({ clip: 0.5 })).toThrow(/standardiser\.clip/);
  });
});
