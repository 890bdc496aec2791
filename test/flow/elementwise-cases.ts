/**
 * Fixtures shared by the elementwise/linear transform tests: one factory per transform, in the identity
 * ("init") state or with seeded random parameters, plus an input generator for its domain.
 */
import { normalArray, type Rng, uniformArray } from '../../src/core/rng.js';
import * as tf from '../../src/flow/tf.js';
import { ActNorm } from '../../src/flow/transforms/actnorm.js';
import { ElementwiseAffine } from '../../src/flow/transforms/affine.js';
import { LULinear } from '../../src/flow/transforms/lu-linear.js';
import { Permutation } from '../../src/flow/transforms/permutation.js';
import { Logit, Sigmoid } from '../../src/flow/transforms/sigmoid.js';
import type { Bijector, ModuleSpec } from '../../src/flow/types.js';

/** Parameter state a test runs in. */
export type ParamState = 'init' | 'random';
export const STATES: readonly ParamState[] = ['init', 'random'];

/** One transform under test. */
export interface TransformCase {
  readonly name: string;
  /** Builds the transform for `dim` columns in `state`, drawing any randomness from `rng`. */
  make(dim: number, state: ParamState, rng: Rng): Bijector;
  /** A `[n, dim]` batch inside the transform's domain. */
  input(rng: Rng, n: number, dim: number): tf.Tensor2D;
  /** Revives a spec of this kind. */
  fromJSON(spec: ModuleSpec): Bijector;
  /** Whether the transform has trainable variables. */
  readonly trainable: boolean;
}

/** Adds seeded N(0, scale²) noise to every trainable variable (the only way tests set parameters). */
export function perturb(b: Bijector, rng: Rng, scale: number): void {
  for (const v of b.trainableVariables()) {
    const noise = normalArray(rng, v.size);
    const next = tf.tidy(() => tf.add(v, tf.mul(tf.tensor(noise, v.shape), scale)));
    v.assign(next);
    next.dispose();
  }
}

/** Standard-normal batch with per-column offsets and scales, so data-dependent inits see non-trivial stats. */
function realBatch(rng: Rng, n: number, dim: number): tf.Tensor2D {
  const v = normalArray(rng, n * dim);
  for (let i = 0; i < v.length; i++) {
    const col = i % dim;
    v[i] = v[i]! * (0.5 + 0.4 * col) + (col - 1);
  }
  return tf.tensor2d(v, [n, dim]);
}

/** Normal batch clipped to |x| ≤ 6, where float32 σ(x) still leaves room to invert accurately. */
function sigmoidDomainBatch(rng: Rng, n: number, dim: number): tf.Tensor2D {
  const v = normalArray(rng, n * dim).map((a) => Math.max(-6, Math.min(6, 2 * a)));
  return tf.tensor2d(v, [n, dim]);
}

function unitIntervalBatch(rng: Rng, n: number, dim: number): tf.Tensor2D {
  return tf.tensor2d(uniformArray(rng, n * dim, 0.005, 0.995), [n, dim]);
}

export const CASES: readonly TransformCase[] = [
  {
    name: 'ElementwiseAffine',
    trainable: true,
    make(dim, state, rng) {
      const b = new ElementwiseAffine({ dim });
      if (state === 'random') perturb(b, rng, 0.7);
      return b;
    },
    input: realBatch,
    fromJSON: (s) => ElementwiseAffine.fromJSON(s),
  },
  {
    name: 'ActNorm',
    trainable: true,
    make(dim, state, rng) {
      const b = new ActNorm({ dim });
      if (state === 'random') {
        const x = realBatch(rng, 32, dim);
        b.initialize(x);
        x.dispose();
        perturb(b, rng, 0.3);
      }
      return b;
    },
    input: realBatch,
    fromJSON: (s) => ActNorm.fromJSON(s),
  },
  {
    name: 'Sigmoid',
    trainable: false,
    make: (dim) => new Sigmoid({ dim }),
    input: sigmoidDomainBatch,
    fromJSON: (s) => Sigmoid.fromJSON(s),
  },
  {
    name: 'Logit',
    trainable: false,
    make: (dim) => new Logit({ dim }),
    input: unitIntervalBatch,
    fromJSON: (s) => Logit.fromJSON(s),
  },
  {
    name: 'Permutation',
    trainable: false,
    make: (dim, state, rng) => (state === 'init' ? Permutation.reverse(dim) : Permutation.random(dim, rng)),
    input: realBatch,
    fromJSON: (s) => Permutation.fromJSON(s),
  },
  {
    name: 'LULinear',
    trainable: true,
    make(dim, state, rng) {
      if (state === 'init') return new LULinear({ dim });
      const perm = Permutation.random(dim, rng);
      const b = new LULinear({ dim, perm: perm.perm, rng, initScale: 0.1 });
      perm.dispose();
      perturb(b, rng, 0.3);
      return b;
    },
    input: realBatch,
    fromJSON: (s) => LULinear.fromJSON(s),
  },
];
