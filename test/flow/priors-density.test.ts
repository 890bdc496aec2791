import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { BETA_Z_MAX, BETA_Z_MIN, Beta } from '../../src/flow/priors/beta.js';
import { DiagNormal } from '../../src/flow/priors/diag-normal.js';
import { Logistic } from '../../src/flow/priors/logistic.js';
import { StandardNormal } from '../../src/flow/priors/standard-normal.js';
import { UNIFORM_OUTSIDE_LOG_PROB, Uniform01 } from '../../src/flow/priors/uniform.js';
import * as tf from '../../src/flow/tf.js';
import type { Prior } from '../../src/flow/types.js';
import { tensorDelta } from '../helpers/flow-checks.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Per-row log-density of the float32-rounded `rows` under `prior`. */
function logProbOf(prior: Prior, rows: number[][]): Float32Array {
  return tf.tidy(() => prior.logProb(tf.tensor2d(rows, [rows.length, prior.dim]))).dataSync() as Float32Array;
}

/** ∫ exp(log p) over [lo, hi] by the midpoint rule with `n` cells (1-D priors). */
function integrate(prior: Prior, lo: number, hi: number, n = 100_000): number {
  const h = (hi - lo) / n;
  const xs = Float32Array.from({ length: n }, (_, i) => lo + (i + 0.5) * h);
  const lp = tf.tidy(() => prior.logProb(tf.tensor2d(xs, [n, 1]))).dataSync();
  let sum = 0;
  for (const v of lp) sum += Math.exp(v);
  return sum * h;
}

/** Column means and variances of `n` samples. */
function moments(prior: Prior, n: number, seed: number): { mean: number[]; variance: number[] } {
  const s = prior.sample(n, createRng(seed));
  const v = s.dataSync();
  s.dispose();
  const d = prior.dim;
  const mean = new Array<number>(d).fill(0);
  const variance = new Array<number>(d).fill(0);
  for (let i = 0; i < v.length; i++) mean[i % d]! += v[i]! / n;
  for (let i = 0; i < v.length; i++) variance[i % d]! += (v[i]! - mean[i % d]!) ** 2 / (n - 1);
  return { mean, variance };
}

const rows3 = [
  [0.1, 0.5, 0.9],
  [0.01, 0.3, 0.7],
  [0.25, 0.75, 0.5],
];

describe('closed-form log-densities (float64 references, rows summed over dims)', () => {
  it('StandardNormal', () => {
    const rows = [
      [0, 1, -2],
      [3.5, -0.25, 10],
    ];
    const lp = logProbOf(new StandardNormal({ dim: 3 }), rows);
    rows.forEach((r, i) => {
      const ref = r.reduce((a, z) => a - 0.5 * z * z - 0.5 * LOG_2PI, 0);
      expect(lp[i]!).toBeCloseTo(ref, 4);
    });
  });

  it('DiagNormal', () => {
    const loc = [1, -2, 0.5];
    const logScale = [0, Math.log(0.3), Math.log(4)];
    const prior = new DiagNormal({ dim: 3, loc, logScale });
    const rows = [
      [0, 1, -2],
      [1, -2, 0.5],
    ];
    const lp = logProbOf(prior, rows);
    rows.forEach((r, i) => {
      const ref = r.reduce((a, z, j) => {
        const s = Math.exp(logScale[j]!);
        return a - 0.5 * ((z - loc[j]!) / s) ** 2 - Math.log(s) - 0.5 * LOG_2PI;
      }, 0);
      expect(lp[i]!).toBeCloseTo(ref, 4);
    });
    prior.dispose();
  });

  it('Beta(2, 5) and Beta(0.5, 0.5)', () => {
    // B(2, 5) = 1/30; B(½, ½) = π.
    const cases: [number, number, number][] = [
      [2, 5, Math.log(30)],
      [0.5, 0.5, -Math.log(Math.PI)],
    ];
    for (const [a, b, logC] of cases) {
      const lp = logProbOf(new Beta({ dim: 3, alpha: a, beta: b }), rows3);
      rows3.forEach((r, i) => {
        const ref = r.reduce((acc, z) => acc + logC + (a - 1) * Math.log(z) + (b - 1) * Math.log1p(-z), 0);
        expect(Math.abs(lp[i]! - ref)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref)));
      });
    }
  });

  it('Beta clamps the boundary and beyond to finite values', () => {
    const prior = new Beta({ dim: 1, alpha: 2, beta: 5 });
    const lp = logProbOf(prior, [[0], [1], [-0.5], [1.5], [1e-30]]);
    expect(Array.from(lp).every(Number.isFinite)).toBe(true);
    expect(lp[0]!).toBeCloseTo(Math.log(30) + Math.log(BETA_Z_MIN), 3);
    expect(lp[1]!).toBeCloseTo(Math.log(30) + Math.log(BETA_Z_MAX) + 4 * Math.log(1 - BETA_Z_MAX), 3);
    expect(lp[2]!).toBe(lp[0]!);
    expect(lp[3]!).toBe(lp[1]!);
    expect(lp[4]!).toBeCloseTo(Math.log(30) + Math.log(1e-30), 3);
  });

  it('Uniform01: 0 inside [0, 1], UNIFORM_OUTSIDE_LOG_PROB per coordinate outside or NaN', () => {
    const lp = logProbOf(new Uniform01({ dim: 2 }), [
      [0.5, 0.25],
      [0, 1],
      [1.5, 0.5],
      [-1, 2],
      [Number.NaN, 0.5],
    ]);
    expect(Array.from(lp)).toEqual([
      0,
      0,
      UNIFORM_OUTSIDE_LOG_PROB,
      2 * UNIFORM_OUTSIDE_LOG_PROB,
      UNIFORM_OUTSIDE_LOG_PROB,
    ]);
  });

  it('Logistic, finite far in the tails', () => {
    const rows = [
      [0, 1, -3],
      [20, -50, 1e4],
    ];
    const lp = logProbOf(new Logistic({ dim: 3 }), rows);
    rows.forEach((r, i) => {
      const ref = r.reduce((a, z) => a - Math.abs(z) - 2 * Math.log1p(Math.exp(-Math.abs(z))), 0);
      expect(Math.abs(lp[i]! - ref)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref)));
    });
  });
});

describe('1-D densities integrate to 1 (midpoint rule, within 0.01)', () => {
  it.each([
    ['Beta(2, 5)', () => new Beta({ dim: 1, alpha: 2, beta: 5 }), 0, 1],
    ['Logistic', () => new Logistic({ dim: 1 }), -60, 60],
    ['StandardNormal', () => new StandardNormal({ dim: 1 }), -12, 12],
    ['DiagNormal', () => new DiagNormal({ dim: 1, loc: 1.5, logScale: Math.log(0.3) }), -5, 8],
    ['Uniform01', () => new Uniform01({ dim: 1 }), -0.5, 1.5],
  ] as const)('%s', (_name, make, lo, hi) => {
    const prior = make();
    expect(Math.abs(integrate(prior, lo, hi) - 1)).toBeLessThan(0.01);
    prior.dispose();
  });
});

describe('sample moments (n = 20000, within ~5 standard errors)', () => {
  const n = 20_000;
  it.each([
    ['StandardNormal', () => new StandardNormal({ dim: 2 }), [0, 0], [1, 1]],
    [
      'DiagNormal',
      () => new DiagNormal({ dim: 2, loc: [1, -3], logScale: [Math.log(2), Math.log(0.1)] }),
      [1, -3],
      [4, 0.01],
    ],
    ['Beta(2, 5)', () => new Beta({ dim: 2, alpha: 2, beta: 5 }), [2 / 7, 2 / 7], [10 / 392, 10 / 392]],
    ['Beta(0.5, 0.5)', () => new Beta({ dim: 1, alpha: 0.5, beta: 0.5 }), [0.5], [1 / 8]],
    ['Uniform01', () => new Uniform01({ dim: 2 }), [0.5, 0.5], [1 / 12, 1 / 12]],
    ['Logistic', () => new Logistic({ dim: 2 }), [0, 0], [Math.PI ** 2 / 3, Math.PI ** 2 / 3]],
  ] as const)('%s', (_name, make, mean, variance) => {
    const prior = make();
    const m = moments(prior, n, 7);
    mean.forEach((mu, j) => {
      expect(Math.abs(m.mean[j]! - mu)).toBeLessThan(5 * Math.sqrt(variance[j]! / n));
      // Relative error of a sample variance: sd ≈ √(2/n) for normal-like tails; 0.05 is > 5 sd here.
      expect(Math.abs(m.variance[j]! / variance[j]! - 1)).toBeLessThan(0.05);
    });
    prior.dispose();
  });

  it('is reproducible for a given rng state', () => {
    const prior = new Beta({ dim: 3, alpha: 2, beta: 5 });
    const a = prior.sample(50, createRng(3));
    const b = prior.sample(50, createRng(3));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    a.dispose();
    b.dispose();
  });
});

describe('tensor hygiene', () => {
  it('logProb and sample leak no tensors', () => {
    const priors: Prior[] = [
      new StandardNormal({ dim: 3 }),
      new DiagNormal({ dim: 3 }),
      new Beta({ dim: 3, alpha: 2, beta: 5 }),
      new Uniform01({ dim: 3 }),
      new Logistic({ dim: 3 }),
    ];
    const z = tf.tensor2d(rows3);
    const rng = createRng(1);
    const delta = tensorDelta(() => {
      for (const p of priors) {
        p.logProb(z).dispose();
        p.sample(4, rng).dispose();
      }
    });
    expect(delta).toBe(0);
    z.dispose();
    for (const p of priors) p.dispose();
  });

  it('DiagNormal gradients flow to loc and logScale', () => {
    const prior = new DiagNormal({ dim: 2 });
    const z = tf.tensor2d([[1, 2]]);
    const { grads } = tf.variableGrads(
      () => tf.sum(prior.logProb(z)) as tf.Scalar,
      prior.trainableVariables(),
    );
    const [loc, logScale] = prior.trainableVariables().map((v) => Array.from(grads[v.name]!.dataSync()));
    // d/dμ = (z − μ)/σ² = z; d/d log σ = ((z − μ)/σ)² − 1 = z² − 1.
    expect(loc![0]!).toBeCloseTo(1, 5);
    expect(loc![1]!).toBeCloseTo(2, 5);
    expect(logScale![0]!).toBeCloseTo(0, 5);
    expect(logScale![1]!).toBeCloseTo(3, 5);
    for (const g of Object.values(grads)) g.dispose();
    z.dispose();
    prior.dispose();
  });
});
