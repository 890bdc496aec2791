/** Flows and weights shared by the engine tests (fused scoring and the tape-free step). */

import { expect } from 'vitest';
import type { Rng } from '../../src/core/rng.js';
import { realNVP } from '../../src/flow/builders.js';
import { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import { StandardNormal } from '../../src/flow/priors/standard-normal.js';
import * as tf from '../../src/flow/tf.js';
import { ActNorm } from '../../src/flow/transforms/actnorm.js';
import { AffineCoupling } from '../../src/flow/transforms/affine-coupling.js';
import { Permutation } from '../../src/flow/transforms/permutation.js';

/**
 * Five 3-d rows, row-major: valid, NaN, +Infinity, out of range (2e6; the flow's input clamp), valid.
 * Rows 1–3 must score LOG_PROB_FLOOR on every scoring path.
 */
export function invalidRows(): Float32Array {
  return new Float32Array([
    0.1,
    0.2,
    0.3,
    Number.NaN,
    0,
    0,
    1,
    Number.POSITIVE_INFINITY,
    0,
    2e6,
    0,
    0,
    -1,
    1,
    0.5,
  ]);
}

/** Overwrites every variable with N(0, scale²) values, so no layer is the identity. */
export function randomizeWeights(flow: NormalizingFlow, rng: Rng, scale = 0.3): void {
  for (const v of flow.trainableVariables()) {
    const values = Float32Array.from({ length: v.size }, () => scale * rng.normal());
    const t = tf.tensor(values, v.shape);
    v.assign(t);
    t.dispose();
  }
}

/** RealNVP with ActNorm before and a random permutation after every coupling. */
export function mixedFlow(
  dim: number,
  layers: number,
  hidden: number,
  rng: Rng,
  activation: 'relu' | 'tanh',
): NormalizingFlow {
  const flows = [];
  for (let i = 0; i < layers; i++) {
    flows.push(new ActNorm({ dim }));
    flows.push(new AffineCoupling({ dim, hidden, activation, parity: i % 2 === 0 ? 0 : 1, rng }));
    flows.push(Permutation.random(dim, rng));
  }
  return new NormalizingFlow(new StandardNormal({ dim }), flows);
}

/** Per variable: max |a − b| ≤ rel · max(max |b|, 1e-6). */
export function expectGradsClose(a: Float32Array[], b: Float32Array[], rel: number): void {
  expect(a.length).toBe(b.length);
  for (const [i, ref] of b.entries()) {
    let diff = 0;
    let scale = 1e-6;
    for (let k = 0; k < ref.length; k++) {
      diff = Math.max(diff, Math.abs(a[i]![k]! - ref[k]!));
      scale = Math.max(scale, Math.abs(ref[k]!));
    }
    expect(diff, `variable ${i}`).toBeLessThanOrEqual(rel * scale);
  }
}

/** A case per (dim, layer count), relu or tanh alternating, for the engine-equivalence tests. */
export function shapeCases(
  dims: readonly number[],
  layerCounts: readonly number[],
): { dim: number; layers: number; activation: 'relu' | 'tanh' }[] {
  return dims.flatMap((dim) =>
    layerCounts.map(
      (layers) => ({ dim, layers, activation: (dim + layers) % 2 === 0 ? 'relu' : 'tanh' }) as const,
    ),
  );
}

/** The two flows every engine-equivalence case checks: a RealNVP and a mixed flow of the same shape. */
export function caseFlows(
  dim: number,
  layers: number,
  activation: 'relu' | 'tanh',
  rng: Rng,
): NormalizingFlow[] {
  return [
    realNVP({ dim, layers, hidden: 16, activation, seed: dim }),
    mixedFlow(dim, layers, 12, rng, activation),
  ];
}
