/**
 * Shared contract tests for the neural transforms (affine coupling, MAF, spline coupling): identity at
 * initialisation, invertibility, log-determinant against autodiff, serialization round trip, bad specs
 * and tensor leaks, each at initialisation and with randomised weights.
 */
import { expect, it } from 'vitest';
import { createRng, normalArray, type Rng } from '../../src/core/rng.js';
import { SerializationError } from '../../src/errors.js';
import * as tf from '../../src/flow/tf.js';
import type { Bijector, ModuleSpec } from '../../src/flow/types.js';
import { logDetError, randomBatch, roundTripError, tensorDelta } from './flow-checks.js';

/**
 * Overwrites every variable with seeded N(0, scale²) values: weights (rank 2) with scale gain/√fanIn so
 * hidden activations stay O(1), biases with scale 0.3. Output layers become non-zero, so the transform is
 * no longer the identity.
 */
export function randomizeWeights(b: Bijector, rng: Rng, gain = 1): void {
  for (const v of b.trainableVariables()) {
    const scale = v.shape.length === 2 ? gain / Math.sqrt(v.shape[0]!) : 0.3;
    const values = normalArray(rng, v.size).map((x) => x * scale);
    tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
  }
}

/** max |forward(x).z − x|: how far the transform is from the identity on this batch. */
export function distanceFromIdentity(b: Bijector, x: tf.Tensor2D): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(b.forward(x).z, x))).dataSync()[0]!);
}

/** Forward z, logDet and inverse(x) values, for exact comparison of two instances. */
function outputs(b: Bijector, x: tf.Tensor2D): number[][] {
  return tf.tidy(() => {
    const { z, logDet } = b.forward(x);
    return [Array.from(z.dataSync()), Array.from(logDet.dataSync()), Array.from(b.inverse(x).dataSync())];
  });
}

/** A fresh transform of dimension `dim`, built with `rng`. */
export type Make = (dim: number, rng: Rng) => Bijector;

/**
 * Contract suite; call inside a `describe`. `scale` is the std of the test inputs, `gain` that of the
 * random weights (see `randomizeWeights`).
 */
export function bijectorContract(
  make: Make,
  fromJSON: (spec: ModuleSpec) => Bijector,
  { scale = 1.5, gain = 1 }: { scale?: number; gain?: number } = {},
): void {
  const states = ['at init', 'with random weights'] as const;
  const build = (dim: number, state: (typeof states)[number], seed: number): Bijector => {
    const rng = createRng(seed);
    const b = make(dim, rng);
    if (state === 'with random weights') randomizeWeights(b, rng, gain);
    return b;
  };

  it('is the identity at initialisation and moves once weights are random', () => {
    for (const dim of [1, 2, 5]) {
      const x = randomBatch(createRng(dim), 64, dim, scale);
      const b = build(dim, 'at init', 10 + dim);
      expect(distanceFromIdentity(b, x)).toBeLessThan(1e-5);
      const ld = tf.tidy(() => tf.max(tf.abs(b.forward(x).logDet)).dataSync()[0]!);
      expect(ld).toBeLessThan(1e-5);
      randomizeWeights(b, createRng(dim));
      expect(distanceFromIdentity(b, x)).toBeGreaterThan(0.1);
      b.dispose();
      x.dispose();
    }
  });

  for (const state of states) {
    it(`inverts to < 1e-4 in dims 1..8 ${state}`, () => {
      for (let dim = 1; dim <= 8; dim++) {
        const b = build(dim, state, 100 + dim);
        const x = randomBatch(createRng(dim), 128, dim, scale);
        expect(roundTripError(b, x), `dim ${dim}`).toBeLessThan(1e-4);
        b.dispose();
        x.dispose();
      }
    });

    it(`has logDet matching autodiff to < 1e-3 in dims 1..5 ${state}`, () => {
      for (let dim = 1; dim <= 5; dim++) {
        const b = build(dim, state, 200 + dim);
        const x = randomBatch(createRng(dim), 16, dim, scale);
        expect(logDetError(b, x), `dim ${dim}`).toBeLessThan(1e-3);
        b.dispose();
        x.dispose();
      }
    });

    it(`round-trips through JSON with identical outputs ${state}`, () => {
      for (const dim of [1, 3, 4]) {
        const b = build(dim, state, 300 + dim);
        const copy = fromJSON(JSON.parse(JSON.stringify(b.toJSON())) as ModuleSpec);
        expect(copy.kind).toBe(b.kind);
        expect(copy.dim).toBe(dim);
        const x = randomBatch(createRng(dim), 32, dim, scale);
        expect(outputs(copy, x)).toEqual(outputs(b, x));
        expect(copy.toJSON()).toEqual(b.toJSON());
        b.dispose();
        copy.dispose();
        x.dispose();
      }
    });
  }

  it('does not leak tensors', () => {
    const x = randomBatch(createRng(1), 16, 3, scale);
    const leaked = tensorDelta(() => {
      const b = build(3, 'with random weights', 400);
      const warm = b.forward(x);
      warm.z.dispose();
      warm.logDet.dispose();
      const before = tf.memory().numTensors;
      const { z, logDet } = b.forward(x);
      const back = b.inverse(z);
      expect(tf.memory().numTensors - before).toBe(3);
      z.dispose();
      logDet.dispose();
      back.dispose();
      const copy = fromJSON(b.toJSON());
      copy.dispose();
      b.dispose();
    });
    expect(leaked).toBe(0);
    x.dispose();
  });
}

/** Asserts that `fromJSON(mutate(valid spec))` throws `SerializationError` and leaks nothing. */
export function expectBadSpec(
  make: Make,
  fromJSON: (spec: ModuleSpec) => Bijector,
  mutate: (spec: ModuleSpec) => unknown,
): void {
  const b = make(3, createRng(1));
  const spec = JSON.parse(JSON.stringify(b.toJSON())) as ModuleSpec;
  b.dispose();
  const bad = mutate(spec) as ModuleSpec;
  const before = tf.memory().numTensors;
  expect(() => fromJSON(bad)).toThrow(SerializationError);
  expect(tf.memory().numTensors).toBe(before);
}

/** Spec mutations every neural transform must reject. */
export const COMMON_BAD_SPECS: ReadonlyArray<[string, (s: ModuleSpec) => unknown]> = [
  ['a wrong kind', (s) => ({ ...s, kind: 'something-else' })],
  ['a non-object config', (s) => ({ ...s, config: 42 })],
  ['dim 0', (s) => ({ ...s, config: { ...s.config, dim: 0 } })],
  ['a fractional dim', (s) => ({ ...s, config: { ...s.config, dim: 2.5 } })],
  ['empty hidden', (s) => ({ ...s, config: { ...s.config, hidden: [] } })],
  ['a non-integer hidden width', (s) => ({ ...s, config: { ...s.config, hidden: [8, 'x'] } })],
  ['an unknown activation', (s) => ({ ...s, config: { ...s.config, activation: 'gelu' } })],
  ['a missing weight', (s) => ({ ...s, weights: Object.fromEntries(Object.entries(s.weights).slice(1)) })],
  [
    'a weight of the wrong shape',
    (s) => {
      const [name, w] = Object.entries(s.weights)[0]!;
      return {
        ...s,
        weights: { ...s.weights, [name]: { ...w, shape: [w.shape[0]! + 1, ...w.shape.slice(1)] } },
      };
    },
  ],
  [
    'a dim that does not match the weights',
    (s) => ({ ...s, config: { ...s.config, dim: (s.config.dim as number) + 2 } }),
  ],
];
