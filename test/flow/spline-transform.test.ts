/** SplineCoupling (rational-quadratic): contract, tails, monotonicity, robustness, options and specs. */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { InvalidOptionError } from '../../src/errors.js';
import * as tf from '../../src/flow/tf.js';
import { SplineCoupling } from '../../src/flow/transforms/spline-coupling.js';
import type { ModuleSpec } from '../../src/flow/types.js';
import {
  bijectorContract,
  COMMON_BAD_SPECS,
  expectBadSpec,
  type Make,
  randomizeWeights,
} from '../helpers/bijector-contract.js';
import { tensorDelta } from '../helpers/flow-checks.js';

const BOUND = 3;
// Inputs of std 1.5 put ~5% of the coordinates outside [−3, 3], so both branches are exercised.
const make: Make = (dim, rng) =>
  new SplineCoupling({
    dim,
    hidden: [16, 16],
    parity: (dim % 2) as 0 | 1,
    bins: dim % 2 === 0 ? 8 : 5,
    bound: BOUND,
    activation: dim % 3 === 0 ? 'elu' : 'tanh',
    rng,
  });
const fromJSON = (s: ModuleSpec) => SplineCoupling.fromJSON(s);

/** A trained-looking spline: random conditioner with gain 2, so bins and slopes are far from uniform. */
function randomSpline(dim: number, seed: number): SplineCoupling {
  const b = new SplineCoupling({ dim, hidden: 8, bins: 6, bound: BOUND, rng: createRng(seed) });
  randomizeWeights(b, createRng(seed + 1), 2);
  return b;
}

describe('SplineCoupling contract', () => {
  // Gain 0.5 keeps the random splines well conditioned. With larger gains some bins get slopes ~1e-6,
  // where float32 inversion error is ε/slope ≈ 0.1 however exact the formula; the extreme-weights test
  // below checks that regime in the well-conditioned direction instead.
  bijectorContract(make, fromJSON, { gain: 0.5 });
});

describe('SplineCoupling behaviour', () => {
  it('maps points outside [−B, B] by the identity with zero log-det contribution', () => {
    const b = randomSpline(2, 1); // parity 0: column 0 conditions, column 1 is transformed
    const rows = [
      [0.3, 3.0001],
      [-1, -3.5],
      [2, 10],
      [-2.5, -1e4],
      [0, 7],
    ];
    const x = tf.tensor2d(rows);
    const [z, ld] = tf.tidy(() => {
      const r = b.forward(x);
      return [r.z.arraySync(), r.logDet.arraySync()];
    });
    expect(z).toEqual(tf.tidy(() => x.arraySync()));
    for (const v of ld!) expect(v).toBe(0);
    expect(tf.tidy(() => b.inverse(x).arraySync())).toEqual(rows.map((r) => r.map((v) => Math.fround(v))));
    b.dispose();
    x.dispose();
  });

  it('moves points inside [−B, B] once weights are random, and is continuous with slope 1 at ±B', () => {
    const b = randomSpline(2, 3);
    const eps = 1e-3;
    const inner = [-2, -0.5, 0.7, 2.2].map((v) => [0.4, v]);
    const edges = [BOUND - eps, BOUND, -BOUND, -BOUND + eps].map((v) => [0.4, v]);
    const x = tf.tensor2d([...inner, ...edges]);
    const [z, ld] = tf.tidy(() => {
      const r = b.forward(x);
      return [r.z.arraySync().map((row) => row[1]!), r.logDet.arraySync()];
    });
    const moved = inner.map((r, i) => Math.abs(z![i]! - r[1]!));
    expect(Math.max(...moved)).toBeGreaterThan(0.05);
    // Value continuity: at ±B exactly the spline equals the identity; ε inside it deviates by O(ε²).
    for (const [i, r] of edges.entries()) expect(Math.abs(z![inner.length + i]! - r[1]!)).toBeLessThan(1e-4);
    // Slope continuity: the log-derivative is 0 at exactly ±B (boundary derivatives are fixed at 1).
    for (const i of [inner.length + 1, inner.length + 2]) expect(Math.abs(ld![i]!)).toBeLessThan(1e-5);
    b.dispose();
    x.dispose();
  });

  it('is strictly increasing in each transformed coordinate', () => {
    const b = randomSpline(2, 5);
    const n = 400;
    const grid = Array.from({ length: n }, (_, i) => [0.9, -4 + (8 * i) / (n - 1)]);
    const x = tf.tensor2d(grid);
    const z = tf.tidy(() =>
      b
        .forward(x)
        .z.arraySync()
        .map((r) => r[1]!),
    );
    for (let i = 1; i < n; i++) expect(z[i]!).toBeGreaterThan(z[i - 1]!);
    b.dispose();
    x.dispose();
  });

  it('stays finite and invertible with extreme conditioner outputs, at knots and at ±B', () => {
    const b = new SplineCoupling({ dim: 2, hidden: 8, bins: 4, bound: BOUND, rng: createRng(1) });
    randomizeWeights(b, createRng(2), 40);
    const rows: number[][] = [];
    for (const v of [-BOUND, BOUND, -1.5, 0, 1.5, -BOUND - 1e-6, BOUND + 1e-6, 2.999999]) {
      for (const c of [-3, 0, 2.5]) rows.push([c, v]);
    }
    const x = tf.tensor2d(rows);
    const finite = tf.tidy(() => {
      const { z, logDet } = b.forward(x);
      return [tf.all(tf.isFinite(z)).dataSync()[0], tf.all(tf.isFinite(logDet)).dataSync()[0]];
    });
    expect(finite).toEqual([1, 1]);
    // Latent → data → latent is well conditioned even where the forward slope is tiny: the error is the
    // float32 error of x (ulp(3) ≈ 2.4e-7) times the slope, at most ~1/minBinSize = 1000 here.
    const err = tf.tidy(() => tf.max(tf.abs(tf.sub(b.forward(b.inverse(x)).z, x))).dataSync()[0]!);
    expect(err).toBeLessThan(1e-3);
    b.dispose();
    x.dispose();
  });

  it('has finite gradients for variables and inputs on both branches, and leaks nothing', () => {
    const b = randomSpline(3, 7);
    const x = tf.tensor2d([
      [0.1, -0.2, 0.3],
      [2.9, 3, -3],
      [5, -7, 4],
      [-1, 1.5, -2.5],
    ]);
    const delta = tensorDelta(() => {
      const loss = () => {
        const { z, logDet } = b.forward(x);
        return tf.add(tf.sum(tf.square(z)), tf.sum(logDet)) as tf.Scalar;
      };
      const { grads, value } = tf.variableGrads(loss, b.trainableVariables());
      for (const g of Object.values(grads)) {
        expect(tf.tidy(() => tf.all(tf.isFinite(g)).dataSync()[0])).toBe(1);
      }
      const gx = tf.grad((xx: tf.Tensor) => {
        const { z, logDet } = b.forward(xx as tf.Tensor2D);
        return tf.add(tf.sum(z), tf.sum(logDet));
      })(x);
      expect(tf.tidy(() => tf.all(tf.isFinite(gx)).dataSync()[0])).toBe(1);
      tf.dispose([value, gx, ...Object.values(grads)]);
    });
    expect(delta).toBe(0);
    b.dispose();
    x.dispose();
  });
});

describe('SplineCoupling options and specs', () => {
  const bad: [string, Record<string, unknown>][] = [
    ['dim 0', { dim: 0 }],
    ['bins 1', { dim: 2, bins: 1 }],
    ['bound 0', { dim: 2, bound: 0 }],
    ['bound Infinity', { dim: 2, bound: Number.POSITIVE_INFINITY }],
    ['bins · minBinSize ≥ 1', { dim: 2, bins: 10, minBinSize: 0.1 }],
    ['minDerivative 0', { dim: 2, minDerivative: 0 }],
    ['minDerivative 1', { dim: 2, minDerivative: 1 }],
    ['parity -1', { dim: 2, parity: -1 }],
  ];
  it.each(bad)('rejects %s with InvalidOptionError and allocates nothing', (_name, options) => {
    const delta = tensorDelta(() => {
      expect(() => new SplineCoupling(options as unknown as { dim: number })).toThrow(InvalidOptionError);
    });
    expect(delta).toBe(0);
  });

  it('rejects inputs of the wrong width', () => {
    const b = make(3, createRng(1));
    const x = tf.zeros([4, 1]) as tf.Tensor2D;
    expect(() => b.forward(x)).toThrow(InvalidOptionError);
    expect(() => b.inverse(x)).toThrow(InvalidOptionError);
    b.dispose();
    x.dispose();
  });

  const badSpecs: [string, (s: ModuleSpec) => unknown][] = [
    ...COMMON_BAD_SPECS,
    ['bins 1', (s) => ({ ...s, config: { ...s.config, bins: 1 } })],
    ['bins that do not match the weights', (s) => ({ ...s, config: { ...s.config, bins: 9 } })],
    ['a negative bound', (s) => ({ ...s, config: { ...s.config, bound: -2 } })],
    ['a string minBinSize', (s) => ({ ...s, config: { ...s.config, minBinSize: '0.001' } })],
  ];
  it.each(badSpecs)('fromJSON rejects %s with SerializationError', (_name, mutate) => {
    expectBadSpec(make, fromJSON, mutate);
  });
});
