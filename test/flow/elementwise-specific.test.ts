/** Behaviour specific to ElementwiseAffine, ActNorm, Sigmoid/Logit and Permutation, and option validation. */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { InvalidOptionError } from '../../src/errors.js';
import * as tf from '../../src/flow/tf.js';
import { ACTNORM_DEFAULT_EPSILON, ActNorm } from '../../src/flow/transforms/actnorm.js';
import { ElementwiseAffine } from '../../src/flow/transforms/affine.js';
import { Permutation } from '../../src/flow/transforms/permutation.js';
import { LOGIT_EPS, Logit, Sigmoid } from '../../src/flow/transforms/sigmoid.js';
import { randomBatch, tensorDelta } from '../helpers/flow-checks.js';

const BAD_DIMS: unknown[] = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3', undefined, null];

function forwardArrays(
  b: { forward(x: tf.Tensor2D): { z: tf.Tensor2D; logDet: tf.Tensor1D } },
  x: tf.Tensor2D,
): { z: number[][]; logDet: number[] } {
  const { z, logDet } = b.forward(x);
  // + 0 turns the −0 of a negated zero sum into 0, so toEqual can compare against plain zeros.
  const out = { z: z.arraySync(), logDet: logDet.arraySync().map((v) => v + 0) };
  tf.dispose([z, logDet]);
  return out;
}

describe('constructor option validation', () => {
  const ctors: [string, (dim: unknown) => unknown][] = [
    ['ElementwiseAffine', (dim) => new ElementwiseAffine({ dim: dim as number })],
    ['ActNorm', (dim) => new ActNorm({ dim: dim as number })],
    ['Sigmoid', (dim) => new Sigmoid({ dim: dim as number })],
    ['Logit', (dim) => new Logit({ dim: dim as number })],
    ['Permutation.reverse', (dim) => Permutation.reverse(dim as number)],
    ['Permutation.random', (dim) => Permutation.random(dim as number, createRng(1))],
  ];
  it.each(ctors)('%s rejects a bad dim with InvalidOptionError and allocates nothing', (_name, make) => {
    for (const dim of BAD_DIMS) {
      const delta = tensorDelta(() => expect(() => make(dim), String(dim)).toThrow(InvalidOptionError));
      expect(delta).toBe(0);
    }
  });

  it('ActNorm rejects a non-positive or non-finite epsilon', () => {
    for (const epsilon of [0, -1e-6, Number.NaN, Number.POSITIVE_INFINITY]) {
      const delta = tensorDelta(() =>
        expect(() => new ActNorm({ dim: 2, epsilon })).toThrow(InvalidOptionError),
      );
      expect(delta).toBe(0);
    }
  });

  it('Permutation rejects arrays that are not permutations of 0..n-1', () => {
    const bad: unknown[] = [[], [0, 0], [1, 2], [0, 1.5], [-1, 0], [0, '1'], 'abc', undefined, [Number.NaN]];
    for (const perm of bad) {
      expect(() => new Permutation({ perm: perm as number[] }), JSON.stringify(perm)).toThrow(
        InvalidOptionError,
      );
    }
  });

  it('transforms reject inputs of the wrong shape', () => {
    const rng = createRng(3);
    const x = randomBatch(rng, 4, 3);
    const all = [
      new ElementwiseAffine({ dim: 2 }),
      new ActNorm({ dim: 2 }),
      new Sigmoid({ dim: 2 }),
      new Logit({ dim: 2 }),
      Permutation.reverse(2),
    ];
    for (const b of all) {
      expect(() => b.forward(x), b.kind).toThrow(InvalidOptionError);
      expect(() => b.inverse(x), b.kind).toThrow(InvalidOptionError);
      b.dispose();
    }
    x.dispose();
  });
});

describe('ElementwiseAffine', () => {
  it('starts as the identity and computes (x − shift)·exp(−logScale)', () => {
    const a = new ElementwiseAffine({ dim: 2 });
    const x = tf.tensor2d([
      [1, 2],
      [-3, 0.5],
    ]);
    expect(forwardArrays(a, x)).toEqual({ z: x.arraySync(), logDet: [0, 0] });
    const [shift, logScale] = a.trainableVariables();
    const s = tf.tensor1d([1, -1]);
    const l = tf.tensor1d([Math.log(2), Math.log(0.5)]);
    shift!.assign(s);
    logScale!.assign(l);
    const { z, logDet } = forwardArrays(a, x);
    const expected = [
      [0, 6],
      [-2, 3],
    ];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) expect(z[i]![j]).toBeCloseTo(expected[i]![j]!, 5);
    for (const v of logDet) expect(v).toBeCloseTo(0, 6);
    tf.dispose([x, s, l]);
    a.dispose();
  });
});

describe('ActNorm', () => {
  const columnStats = (t: tf.Tensor2D): { mean: number[]; variance: number[] } =>
    tf.tidy(() => {
      const { mean, variance } = tf.moments(t, 0);
      return { mean: Array.from(mean.dataSync()), variance: Array.from(variance.dataSync()) };
    });

  it('is the identity until initialised', () => {
    const n = new ActNorm({ dim: 3 });
    const x = randomBatch(createRng(1), 8, 3, 4);
    expect(n.isInitialized).toBe(false);
    expect(forwardArrays(n, x)).toEqual({ z: x.arraySync(), logDet: new Array(8).fill(0) });
    tf.dispose(x);
    n.dispose();
  });

  it('initialize() makes the batch zero-mean and unit-variance per column, once', () => {
    const rng = createRng(2);
    const raw = randomBatch(rng, 64, 4);
    const x = tf.tidy(() => tf.add(tf.mul(raw, tf.tensor1d([0.1, 1, 5, 300])), tf.tensor1d([-7, 0, 3, 1e4])));
    const n = new ActNorm({ dim: 4 });
    const delta = tensorDelta(() => n.initialize(x as tf.Tensor2D));
    expect(delta).toBe(0);
    expect(n.isInitialized).toBe(true);
    const z = n.forward(x as tf.Tensor2D);
    const { mean, variance } = columnStats(z.z);
    for (const m of mean) expect(Math.abs(m)).toBeLessThan(1e-4);
    for (const v of variance) expect(v).toBeCloseTo(1, 2);
    tf.dispose([z.z, z.logDet]);
    // A second call must not re-fit to a different batch.
    const before = JSON.stringify(n.toJSON());
    n.initialize(raw);
    expect(JSON.stringify(n.toJSON())).toBe(before);
    tf.dispose([raw, x]);
    n.dispose();
  });

  it('guards a constant column with epsilon: finite scale √epsilon', () => {
    const x = tf.tensor2d([
      [5, 1],
      [5, 2],
      [5, 3],
    ]);
    const n = new ActNorm({ dim: 2 });
    n.initialize(x);
    const { z, logDet } = forwardArrays(n, x);
    expect(z.flat().every(Number.isFinite)).toBe(true);
    expect(z.map((r) => r[0])).toEqual([0, 0, 0]);
    const expectedLogDet =
      -0.5 * Math.log(ACTNORM_DEFAULT_EPSILON) - 0.5 * Math.log(2 / 3 + ACTNORM_DEFAULT_EPSILON);
    for (const v of logDet) expect(v).toBeCloseTo(expectedLogDet, 3);
    x.dispose();
    n.dispose();
  });

  it('rejects a batch with NaN or no rows and stays uninitialised', () => {
    const n = new ActNorm({ dim: 2 });
    const bad = tf.tensor2d([
      [1, Number.NaN],
      [2, 3],
    ]);
    const empty = tf.zeros([0, 2]) as tf.Tensor2D;
    const delta = tensorDelta(() => {
      expect(() => n.initialize(bad)).toThrow(InvalidOptionError);
      expect(() => n.initialize(empty)).toThrow(InvalidOptionError);
    });
    expect(delta).toBe(0);
    expect(n.isInitialized).toBe(false);
    tf.dispose([bad, empty]);
    n.dispose();
  });

  it('serializes the initialized flag and epsilon', () => {
    const n = new ActNorm({ dim: 2, epsilon: 1e-4 });
    expect(ActNorm.fromJSON(n.toJSON()).isInitialized).toBe(false);
    const x = randomBatch(createRng(4), 5, 2);
    n.initialize(x);
    const back = ActNorm.fromJSON(JSON.parse(JSON.stringify(n.toJSON())));
    expect(back.isInitialized).toBe(true);
    expect(back.epsilon).toBe(1e-4);
    // Restored parameters are never overwritten by a later initialize().
    const before = JSON.stringify(back.toJSON());
    const other = tf.tidy(() => tf.mul(x, 3)) as tf.Tensor2D;
    back.initialize(other);
    expect(JSON.stringify(back.toJSON())).toBe(before);
    tf.dispose([x, other]);
    n.dispose();
    back.dispose();
  });
});

describe('Sigmoid and Logit', () => {
  const softplus = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

  it('Sigmoid gives finite, exact log-determinants even for large |x|', () => {
    const s = new Sigmoid({ dim: 4 });
    const xs = [-60, -20, 20, 60];
    const x = tf.tensor2d([xs]);
    const { z, logDet } = forwardArrays(s, x);
    expect(z[0]!.every((v) => v >= 0 && v <= 1)).toBe(true);
    const expected = xs.reduce((acc, v) => acc - softplus(-v) - softplus(v), 0);
    expect(logDet[0]).toBeCloseTo(expected, 3);
    x.dispose();
  });

  it(`Logit clamps to [${LOGIT_EPS}, 1 − ${LOGIT_EPS}] so boundary values stay finite`, () => {
    const l = new Logit({ dim: 4 });
    const x = tf.tensor2d([
      [0, 1, -0.5, 1.5],
      [LOGIT_EPS, 1 - LOGIT_EPS, 0.5, 0.25],
    ]);
    const { z, logDet } = forwardArrays(l, x);
    expect(z.flat().every(Number.isFinite)).toBe(true);
    expect(logDet.every(Number.isFinite)).toBe(true);
    const edge = Math.log((1 - LOGIT_EPS) / LOGIT_EPS);
    expect(z[0]![0]).toBeCloseTo(-edge, 1);
    expect(z[0]![1]).toBeCloseTo(edge, 1);
    expect(z[1]![2]).toBeCloseTo(0, 6);
    expect(z[1]![3]).toBeCloseTo(Math.log(1 / 3), 5);
    // Gradients at (and beyond) the boundary are finite too.
    const g = tf.grad((t: tf.Tensor) => {
      const r = l.forward(t as tf.Tensor2D);
      return tf.add(tf.sum(r.z), tf.sum(r.logDet));
    })(x);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([x, g]);
  });

  it('Sigmoid.inverse of 0 and 1 is finite', () => {
    const s = new Sigmoid({ dim: 2 });
    const z = tf.tensor2d([[0, 1]]);
    const x = s.inverse(z);
    const vals = Array.from(x.dataSync());
    expect(vals.every(Number.isFinite)).toBe(true);
    expect(vals[0]).toBeLessThan(-13);
    expect(vals[1]).toBeGreaterThan(13);
    tf.dispose([z, x]);
  });
});

describe('Permutation', () => {
  it('moves column perm[j] to column j exactly, and back', () => {
    const p = new Permutation({ perm: [2, 0, 3, 1] });
    const x = tf.tensor2d([
      [1.5, -2.25, 3e-8, 4e7],
      [0.1, 0.2, 0.3, 0.4],
    ]);
    const { z, logDet } = forwardArrays(p, x);
    const xs = x.arraySync();
    expect(z).toEqual(xs.map((r) => [r[2], r[0], r[3], r[1]]));
    expect(logDet).toEqual([0, 0]);
    const back = p.inverse(tf.tensor2d(z));
    expect(back.arraySync()).toEqual(xs);
    tf.dispose([x, back]);
    p.dispose();
  });

  it('reverse() reverses and random() is a seeded, valid permutation', () => {
    const r = Permutation.reverse(4);
    expect(r.perm).toEqual([3, 2, 1, 0]);
    const a = Permutation.random(16, createRng(9));
    const b = Permutation.random(16, createRng(9));
    const c = Permutation.random(16, createRng(10));
    expect(a.perm).toEqual(b.perm);
    expect(a.perm).not.toEqual(c.perm);
    expect([...a.perm].sort((u, v) => u - v)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    for (const p of [r, a, b, c]) p.dispose();
  });

  it('keeps its constant alive when built inside tf.tidy', () => {
    let built: Permutation | undefined;
    tf.tidy(() => {
      built = Permutation.reverse(3);
    });
    const p = built!;
    const x = tf.tensor2d([[1, 2, 3]]);
    const { z } = forwardArrays(p, x);
    expect(z).toEqual([[3, 2, 1]]);
    x.dispose();
    p.dispose();
  });
});
