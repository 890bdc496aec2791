import { InvalidOptionError } from '../errors.js';
import * as tf from './tf.js';

/** Output of `clipByGlobalNorm`; the caller owns every tensor. */
export interface ClipResult {
  /** The gradients, scaled so that their global L2 norm is at most `maxNorm`; same order and shapes. */
  readonly grads: tf.Tensor[];
  /** Global L2 norm of the gradients before clipping (scalar). NaN/Infinity when any gradient is. */
  readonly norm: tf.Scalar;
}

/** Whether `maxNorm` turns clipping on (finite and > 0). */
export function clippingEnabled(maxNorm: number): boolean {
  return Number.isFinite(maxNorm) && maxNorm > 0;
}

/**
 * Global L2 norm √(Σ_i ‖g_i‖²) over a list of tensors (scalar). Squares are summed in float32, so
 * gradients above ~1e19 overflow to Infinity, which callers treat like any non-finite gradient.
 */
export function globalNorm(tensors: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    if (tensors.length === 0) return tf.scalar(0);
    const squares = tensors.map((t) => tf.sum(tf.square(t)));
    return tf.sqrt(tf.addN(squares)) as tf.Scalar;
  });
}

/**
 * Scales `grads` jointly so their global L2 norm is at most `maxNorm` (the direction is kept), and
 * returns the pre-clip norm, all in-graph (no readback). `maxNorm` ≤ 0 or Infinity disables clipping:
 * the grads come back unscaled (as clones) and the norm is still reported. Non-finite gradients yield a
 * non-finite norm and non-finite clipped grads; the caller is expected to skip such an update.
 */
export function clipByGlobalNorm(grads: readonly tf.Tensor[], maxNorm: number): ClipResult {
  if (Number.isNaN(maxNorm)) {
    throw new InvalidOptionError('maxNorm is NaN; pass a positive number, or 0/Infinity to disable clipping');
  }
  return tf.tidy(() => {
    const norm = globalNorm(grads);
    if (!clippingEnabled(maxNorm)) return { grads: grads.map((g) => tf.clone(g)), norm };
    // maxNorm / max(norm, maxNorm) is exactly 1 below the threshold and never divides by zero.
    const scale = tf.div(maxNorm, tf.maximum(norm, maxNorm));
    return { grads: grads.map((g) => tf.mul(g, scale)), norm };
  });
}
