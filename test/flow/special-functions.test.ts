import { describe, expect, it } from 'vitest';
import {
  erfcF64,
  lgamma,
  lgammaF64,
  log1p,
  logErfc,
  logErfcF64,
  logNormalCdf,
  logNormalCdfF64,
  logNormalCdfPair,
} from '../../src/flow/special.js';
import * as tf from '../../src/flow/tf.js';
import { tensorDelta } from '../helpers/flow-checks.js';

/** Applies a tensor function to float32-rounded inputs; returns inputs (as float32 values) and outputs. */
function evalOn(fn: (t: tf.Tensor) => tf.Tensor, xs: number[]): { x: number[]; y: Float32Array } {
  const x = xs.map(Math.fround);
  const y = tf.tidy(() => fn(tf.tensor1d(x))).dataSync() as Float32Array;
  return { x, y };
}

function gradOn(fn: (t: tf.Tensor) => tf.Tensor, xs: number[]): Float32Array {
  return tf
    .tidy(() => tf.grad((t: tf.Tensor) => tf.sum(fn(t)))(tf.tensor1d(xs.map(Math.fround))))
    .dataSync() as Float32Array;
}

/** max over i of |y_i − ref(x_i)| / max(floor, |ref(x_i)|). */
function worstError(x: number[], y: ArrayLike<number>, ref: (v: number) => number, floor = 1): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const r = ref(x[i]!);
    worst = Math.max(worst, Math.abs(y[i]! - r) / Math.max(floor, Math.abs(r)));
  }
  return worst;
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to + 1e-12; v += step) out.push(v);
  return out;
}

describe('float64 references', () => {
  it('match published values of erfc, lgamma and log Φ', () => {
    const erfc: [number, number][] = [
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [2, 0.004677734981047266],
      [3, 2.209049699858544e-5],
      [5, 1.5374597944280349e-12],
      [-1, 1.8427007929497148],
    ];
    for (const [x, v] of erfc) expect(Math.abs(erfcF64(x) - v) / v).toBeLessThan(1e-13);
    // erfc(10) = 2.088487583762545e-45: only the log survives in float64 range checks.
    expect(logErfcF64(10)).toBeCloseTo(Math.log(2.088487583762545e-45), 11);
    const lg: [number, number][] = [
      [0.5, 0.5723649429247001],
      [1, 0],
      [2, 0],
      [10, 12.801827480081469],
      [100, 359.1342053695754],
    ];
    for (const [x, v] of lg) expect(Math.abs(lgammaF64(x) - v)).toBeLessThan(1e-12 * Math.max(1, v));
    expect(logNormalCdfF64(0)).toBeCloseTo(Math.log(0.5), 14);
    // Φ(−1.959963984540054) = 0.025.
    expect(logNormalCdfF64(-1.959963984540054)).toBeCloseTo(Math.log(0.025), 12);
  });
});

describe('lgamma (float32 tensor)', () => {
  it('is within 1e-5 relative of float64 over [1e-3, 1e6]', () => {
    const xs = [...range(-3, 6, 0.005).map((e) => 10 ** e), ...range(0.5, 3, 0.001)];
    const { x, y } = evalOn(lgamma, xs);
    expect(worstError(x, y, lgammaF64)).toBeLessThan(1e-5);
  });

  it('has the digamma function as gradient', () => {
    const xs = [1e-3, 0.1, 1, 2.5, 7.99, 8, 8.01, 50, 1e4];
    const g = gradOn(lgamma, xs);
    xs.forEach((x0, i) => {
      const x = Math.fround(x0);
      const h = 1e-5 * x;
      const ref = (lgammaF64(x + h) - lgammaF64(x - h)) / (2 * h);
      expect(Math.abs(g[i]! - ref) / Math.max(1, Math.abs(ref))).toBeLessThan(1e-3);
    });
  });
});

describe('log1p and logErfc (float32 tensor)', () => {
  it('log1p keeps relative precision for tiny arguments, where wasm tf.log1p returns 0', () => {
    const xs = [
      -0.9, -0.5, -1e-2, -1e-3, -1.1e-4, -0.9e-4, -1e-6, -3e-8, -1e-20, 1e-20, 3e-8, 1e-4, 0.5, 10, 1e6,
    ];
    const { x, y } = evalOn(log1p, xs);
    expect(worstError(x, y, Math.log1p, 1e-30)).toBeLessThan(1e-6);
  });

  it('logErfc matches float64 for a in [0, 1e4]', () => {
    const xs = [...range(0, 30, 0.01), 100, 1e3, 1e4];
    const { x, y } = evalOn(logErfc, xs);
    expect(worstError(x, y, logErfcF64)).toBeLessThan(1e-6);
  });
});

describe('logNormalCdf (float32 tensor)', () => {
  it('is accurate from t = −1e4 to t = 40 (|err| ≤ 1e-6·max(1, |log Φ|))', () => {
    const xs = [-1e4, -3e3, -1e3, -300, -100, ...range(-40, 40, 0.01)];
    const { x, y } = evalOn(logNormalCdf, xs);
    expect(y.every(Number.isFinite)).toBe(true);
    expect(worstError(x, y, logNormalCdfF64)).toBeLessThan(1e-6);
    // t = −1e4: log Φ ≈ −5e7, finite and within float32 resolution of the truth.
    expect(y[0]!).toBeLessThan(-4.9e7);
    expect(Math.abs(y[0]! - logNormalCdfF64(-1e4)) / 5e7).toBeLessThan(1e-6);
  });

  it('keeps relative precision of log Φ(t) ≈ −Φ(−t) for large positive t', () => {
    const { x, y } = evalOn(logNormalCdf, range(0, 9, 0.01));
    expect(worstError(x, y, logNormalCdfF64, 1e-300)).toBeLessThan(5e-5);
    expect(y[y.length - 1]!).toBeLessThan(0);
  });

  it('pairs log Φ(t) with log Φ(−t)', () => {
    const ts = [-50, -3, -0.5, 0, 0.5, 3, 50];
    const [cdf, sf] = tf.tidy(() => {
      const p = logNormalCdfPair(tf.tensor1d(ts));
      return [p.logCdf.dataSync(), p.logSf.dataSync()];
    });
    ts.forEach((t, i) => {
      expect(Math.abs(cdf![i]! - logNormalCdfF64(t))).toBeLessThan(1e-6 * Math.max(1, Math.abs(cdf![i]!)));
      expect(Math.abs(sf![i]! - logNormalCdfF64(-t))).toBeLessThan(1e-6 * Math.max(1, Math.abs(sf![i]!)));
    });
  });

  it('has finite, accurate gradients φ(t)/Φ(t) everywhere, including t = 0 and t = −1e4', () => {
    const ts = [-1e4, -100, -10, -3, -1, -1e-3, 0, 1e-3, 1, 3, 10];
    const g = gradOn(logNormalCdf, ts);
    ts.forEach((t0, i) => {
      const t = Math.fround(t0);
      const ref = Math.exp(-0.5 * t * t - 0.5 * Math.log(2 * Math.PI) - logNormalCdfF64(t));
      expect(Number.isFinite(g[i]!)).toBe(true);
      expect(Math.abs(g[i]! - ref)).toBeLessThan(1e-4 * Math.max(1e-3, Math.abs(ref)) + 1e-12);
    });
  });

  it('leaks no tensors', () => {
    const delta = tensorDelta(() => {
      const t = tf.tensor1d([-3, 0, 3]);
      const positive = tf.tensor1d([0.5, 1, 3]);
      for (const fn of [lgamma, logNormalCdf, log1p, logErfc]) fn(positive).dispose();
      const p = logNormalCdfPair(t);
      p.logCdf.dispose();
      p.logSf.dispose();
      t.dispose();
      positive.dispose();
    });
    expect(delta).toBe(0);
  });
});
