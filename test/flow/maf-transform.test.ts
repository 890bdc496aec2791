/** MaskedAutoregressive (MAF) and its MADE masks: contract, autoregressive structure, options and specs. */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { InvalidOptionError } from '../../src/errors.js';
import { inputDegrees, madeMasks } from '../../src/flow/nn.js';
import * as tf from '../../src/flow/tf.js';
import { MaskedAutoregressive } from '../../src/flow/transforms/maf.js';
import type { ModuleSpec } from '../../src/flow/types.js';
import {
  bijectorContract,
  COMMON_BAD_SPECS,
  expectBadSpec,
  type Make,
  randomizeWeights,
} from '../helpers/bijector-contract.js';
import { randomBatch, tensorDelta } from '../helpers/flow-checks.js';

const make: Make = (dim, rng) =>
  new MaskedAutoregressive({
    dim,
    hidden: [16, 16],
    order: dim % 2 === 0 ? 'natural' : 'reversed',
    activation: dim % 3 === 0 ? 'relu' : 'tanh',
    rng,
  });
const fromJSON = (s: ModuleSpec) => MaskedAutoregressive.fromJSON(s);

/** Boolean connectivity input → output through all layers (product of the 0/1 masks). */
function reach(masks: Float32Array[], sizes: number[]): boolean[][] {
  let acc: boolean[][] = Array.from({ length: sizes[0]! }, (_, i) =>
    Array.from({ length: sizes[0]! }, (_, j) => i === j),
  );
  masks.forEach((m, l) => {
    const nIn = sizes[l]!;
    const nOut = sizes[l + 1]!;
    acc = acc.map((row) =>
      Array.from({ length: nOut }, (_, k) => row.some((on, j) => on && j < nIn && m[j * nOut + k] === 1)),
    );
  });
  return acc;
}

describe('MADE masks', () => {
  it('connect output i (every block) to exactly the inputs earlier in the order', () => {
    for (const order of ['natural', 'reversed'] as const) {
      for (const dim of [2, 3, 5]) {
        const hidden = [dim + 2, dim - 1 || 1];
        const masks = madeMasks(dim, hidden, 3, order);
        const paths = reach(masks, [dim, ...hidden, 3 * dim]);
        const deg = inputDegrees(dim, order);
        for (let i = 0; i < dim; i++) {
          for (let j = 0; j < 3 * dim; j++) {
            expect(paths[i]![j], `${order} dim ${dim} in ${i} out ${j}`).toBe(deg[i]! < deg[j % dim]!);
          }
        }
      }
    }
  });

  it('leave only biases in dim 1', () => {
    const masks = madeMasks(1, [4], 2, 'natural');
    expect(Array.from(masks[1]!)).toEqual(new Array(8).fill(0));
  });
});

describe('MaskedAutoregressive contract', () => {
  bijectorContract(make, fromJSON);
});

describe('MaskedAutoregressive behaviour', () => {
  it('has a triangular Jacobian in its order (z_i depends on x_j only for j ≤ i)', () => {
    for (const order of ['natural', 'reversed'] as const) {
      const dim = 4;
      // tanh: no dead units, so every allowed dependency is visibly non-zero.
      const b = new MaskedAutoregressive({ dim, hidden: 12, order, activation: 'tanh', rng: createRng(1) });
      randomizeWeights(b, createRng(2));
      const x = randomBatch(createRng(3), 8, dim);
      const deg = inputDegrees(dim, order);
      for (let i = 0; i < dim; i++) {
        const g = tf.tidy(() =>
          tf
            .grad((xx: tf.Tensor) => tf.sum(tf.slice(b.forward(xx as tf.Tensor2D).z, [0, i], [8, 1])))(x)
            .arraySync(),
        ) as number[][];
        for (let j = 0; j < dim; j++) {
          const col = Math.max(...g.map((r) => Math.abs(r[j]!)));
          if (deg[j]! > deg[i]!) expect(col, `${order} ∂z${i}/∂x${j}`).toBe(0);
          else expect(col, `${order} ∂z${i}/∂x${j}`).toBeGreaterThan(1e-4);
        }
      }
      b.dispose();
      x.dispose();
    }
  });

  it('soft-clamps the log-scale: |logDet| ≤ clamp · dim even with huge weights', () => {
    // tanh hidden units take both signs, so the saturated log-scales vary from row to row.
    const b = new MaskedAutoregressive({
      dim: 3,
      hidden: 8,
      clamp: 1,
      activation: 'tanh',
      rng: createRng(1),
    });
    randomizeWeights(b, createRng(3), 50);
    const x = randomBatch(createRng(4), 256, 3, 3);
    const maxAbs = tf.tidy(() => tf.max(tf.abs(b.forward(x).logDet)).dataSync()[0]!);
    expect(maxAbs).toBeLessThanOrEqual(3 + 1e-5);
    expect(maxAbs).toBeGreaterThan(1);
    b.dispose();
    x.dispose();
  });

  it('differentiates with respect to its variables with finite gradients and no leaks', () => {
    const b = make(3, createRng(2));
    randomizeWeights(b, createRng(9));
    const x = randomBatch(createRng(1), 64, 3, 2);
    const delta = tensorDelta(() => {
      const { grads, value } = tf.variableGrads(() => {
        const { z, logDet } = b.forward(x);
        return tf.add(tf.sum(tf.square(z)), tf.sum(logDet)) as tf.Scalar;
      }, b.trainableVariables());
      for (const g of Object.values(grads)) {
        expect(tf.tidy(() => tf.all(tf.isFinite(g)).dataSync()[0])).toBe(1);
      }
      tf.dispose([value, ...Object.values(grads)]);
    });
    expect(delta).toBe(0);
    b.dispose();
    x.dispose();
  });
});

describe('MaskedAutoregressive options and specs', () => {
  const bad: [string, Record<string, unknown>][] = [
    ['dim 0', { dim: 0 }],
    ['hidden narrower than dim − 1', { dim: 6, hidden: [4, 8] }],
    ['an unknown order', { dim: 2, order: 'random' }],
    ['clamp 0', { dim: 2, clamp: 0 }],
    ['activation gelu', { dim: 2, activation: 'gelu' }],
  ];
  it.each(bad)('rejects %s with InvalidOptionError and allocates nothing', (_name, options) => {
    const delta = tensorDelta(() => {
      expect(() => new MaskedAutoregressive(options as unknown as { dim: number })).toThrow(
        InvalidOptionError,
      );
    });
    expect(delta).toBe(0);
  });

  it('rejects inputs of the wrong width', () => {
    const b = make(3, createRng(1));
    const x = tf.zeros([4, 5]) as tf.Tensor2D;
    expect(() => b.forward(x)).toThrow(InvalidOptionError);
    expect(() => b.inverse(x)).toThrow(InvalidOptionError);
    b.dispose();
    x.dispose();
  });

  const badSpecs: [string, (s: ModuleSpec) => unknown][] = [
    ...COMMON_BAD_SPECS,
    ['an unknown order', (s) => ({ ...s, config: { ...s.config, order: 'shuffled' } })],
    ['hidden narrower than dim − 1', (s) => ({ ...s, config: { ...s.config, dim: 9 } })],
  ];
  it.each(badSpecs)('fromJSON rejects %s with SerializationError', (_name, mutate) => {
    expectBadSpec(make, fromJSON, mutate);
  });
});
