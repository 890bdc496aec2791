/** Helpers shared by the priors: argument checks and the float32 tensor built from JS samples. */

import type { Rng } from '../../core/rng.js';
import { InvalidOptionError } from '../../errors.js';
import * as tf from '../tf.js';

/** ½·log 2π, the per-dimension constant of a normal log-density (nats). */
export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Throws `InvalidOptionError` unless `n` is a positive integer sample count. */
export function checkSampleSize(n: number, kind: string): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidOptionError(`${kind}: sample size must be a positive integer, got ${n}`, {
      context: { kind, n },
    });
  }
}

/** `[n, dim]` tensor filled element by element from `draw(rng)` (row-major, so reproducible per rng state). */
export function sampleMatrix(n: number, dim: number, rng: Rng, draw: (rng: Rng) => number): tf.Tensor2D {
  const v = new Float32Array(n * dim);
  for (let i = 0; i < v.length; i++) v[i] = draw(rng);
  return tf.tensor2d(v, [n, dim]);
}

/** `[n, dim]` standard-normal noise from `rng`. */
export function normalNoise(n: number, dim: number, rng: Rng): tf.Tensor2D {
  return sampleMatrix(n, dim, rng, (r) => r.normal());
}

/** Sum over the last axis of a `[n, dim]` tensor: the per-row log-density of independent dimensions. */
export function rowSum(t: tf.Tensor): tf.Tensor1D {
  return tf.sum(t, 1) as tf.Tensor1D;
}
