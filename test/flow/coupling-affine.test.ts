/** AffineCoupling (RealNVP): contract, mask behaviour, clamping, dim 1, options and specs. */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { InvalidOptionError } from '../../src/errors.js';
import * as tf from '../../src/flow/tf.js';
import { AffineCoupling } from '../../src/flow/transforms/affine-coupling.js';
import type { ModuleSpec } from '../../src/flow/types.js';
import {
  bijectorContract,
  COMMON_BAD_SPECS,
  expectBadSpec,
  type Make,
  randomizeWeights,
} from '../helpers/bijector-contract.js';
import { randomBatch, tensorDelta } from '../helpers/flow-checks.js';

// Alternate parity and activation across dims so every variant runs through the contract.
const make: Make = (dim, rng) =>
  new AffineCoupling({
    dim,
    hidden: [16, 16],
    parity: (dim % 2) as 0 | 1,
    activation: dim % 3 === 0 ? 'elu' : dim % 3 === 1 ? 'tanh' : 'relu',
    rng,
  });
const fromJSON = (s: ModuleSpec) => AffineCoupling.fromJSON(s);

describe('AffineCoupling contract', () => {
  bijectorContract(make, fromJSON);
});

describe('AffineCoupling behaviour', () => {
  it('passes the conditioning half through bit-exactly and transforms the other half', () => {
    for (const parity of [0, 1] as const) {
      const b = new AffineCoupling({ dim: 5, hidden: 8, parity, rng: createRng(parity) });
      randomizeWeights(b, createRng(7));
      const x = randomBatch(createRng(2), 32, 5);
      const [xs, zs] = tf.tidy(() => [x.arraySync(), b.forward(x).z.arraySync()]);
      for (let i = 0; i < 5; i++) {
        const col = (m: number[][]) => m.map((r) => r[i]!);
        if (i % 2 === parity) expect(col(zs!)).toEqual(col(xs!));
        else expect(col(zs!)).not.toEqual(col(xs!));
      }
      b.dispose();
      x.dispose();
    }
  });

  it('soft-clamps the log-scale: |logDet| ≤ clamp · (transformed dims) even with huge weights', () => {
    const clamp = 1.5;
    const b = new AffineCoupling({ dim: 4, hidden: 8, clamp, rng: createRng(1) });
    randomizeWeights(b, createRng(3), 50);
    const x = randomBatch(createRng(4), 256, 4, 3);
    const logDet = tf.tidy(() => b.forward(x).logDet.arraySync());
    const maxAbs = Math.max(...logDet.map(Math.abs));
    expect(maxAbs).toBeLessThanOrEqual(2 * clamp + 1e-5);
    expect(maxAbs).toBeGreaterThan(clamp); // the clamp is actually reached, so the check means something
    b.dispose();
    x.dispose();
  });

  it('in dim 1 is an elementwise affine map with learned constants (constant input to the conditioner)', () => {
    const b = new AffineCoupling({ dim: 1, hidden: 8, rng: createRng(1) });
    randomizeWeights(b, createRng(5));
    const x = tf.tensor2d([[-2], [0], [1], [3]]);
    const [z, ld] = tf.tidy(() => {
      const r = b.forward(x);
      return [r.z.arraySync().map((row) => row[0]!), r.logDet.arraySync()];
    });
    const slope = (z![1]! - z![0]!) / 2;
    expect(Math.abs(slope - 1)).toBeGreaterThan(0.01);
    expect(z![2]! - z![1]!).toBeCloseTo(slope, 5);
    expect((z![3]! - z![2]!) / 2).toBeCloseTo(slope, 5);
    for (const v of ld!) expect(v).toBeCloseTo(Math.log(slope), 5);
    b.dispose();
    x.dispose();
  });

  it('differentiates with respect to its variables with finite gradients', () => {
    const b = make(3, createRng(2));
    randomizeWeights(b, createRng(9));
    const x = randomBatch(createRng(1), 64, 3, 2);
    const delta = tensorDelta(() => {
      const { grads, value } = tf.variableGrads(() => {
        const { z, logDet } = b.forward(x);
        return tf.add(tf.sum(tf.square(z)), tf.sum(logDet)) as tf.Scalar;
      }, b.trainableVariables());
      expect(Object.keys(grads)).toHaveLength(b.trainableVariables().length);
      for (const g of Object.values(grads))
        expect(tf.tidy(() => tf.all(tf.isFinite(g)).dataSync()[0])).toBe(1);
      tf.dispose([value, ...Object.values(grads)]);
    });
    expect(delta).toBe(0);
    b.dispose();
    x.dispose();
  });
});

describe('AffineCoupling options and specs', () => {
  const bad: [string, Record<string, unknown>][] = [
    ['dim 0', { dim: 0 }],
    ['parity 2', { dim: 2, parity: 2 }],
    ['hidden 0', { dim: 2, hidden: 0 }],
    ['hidden []', { dim: 2, hidden: [] }],
    ['clamp 0', { dim: 2, clamp: 0 }],
    ['clamp NaN', { dim: 2, clamp: Number.NaN }],
    ['activation sigmoid', { dim: 2, activation: 'sigmoid' }],
  ];
  it.each(bad)('rejects %s with InvalidOptionError and allocates nothing', (_name, options) => {
    const delta = tensorDelta(() => {
      expect(() => new AffineCoupling(options as unknown as { dim: number })).toThrow(InvalidOptionError);
    });
    expect(delta).toBe(0);
  });

  it('rejects inputs of the wrong width', () => {
    const b = make(3, createRng(1));
    const x = tf.zeros([4, 2]) as tf.Tensor2D;
    expect(() => b.forward(x)).toThrow(InvalidOptionError);
    expect(() => b.inverse(x)).toThrow(InvalidOptionError);
    b.dispose();
    x.dispose();
  });

  const badSpecs: [string, (s: ModuleSpec) => unknown][] = [
    ...COMMON_BAD_SPECS,
    ['parity 3', (s) => ({ ...s, config: { ...s.config, parity: 3 } })],
    ['a negative clamp', (s) => ({ ...s, config: { ...s.config, clamp: -1 } })],
  ];
  it.each(badSpecs)('fromJSON rejects %s with SerializationError', (_name, mutate) => {
    expectBadSpec(make, fromJSON, mutate);
  });
});
