import type { Rng } from '../core/rng.js';
import type * as tf from './tf.js';

/**
 * Direction convention used throughout `src/flow`:
 * - `forward` maps **data → latent** (x → z). It is used for scoring and training and returns the
 *   per-row log|det ∂z/∂x|.
 * - `inverse` maps **latent → data** (z → x). It is used for sampling.
 *
 * All tensors are float32, shaped `[batch, dim]`; log-determinants are `[batch]`, in nats.
 */
export interface ForwardResult {
  readonly z: tf.Tensor2D;
  /** log|det ∂z/∂x| per row, in nats. */
  readonly logDet: tf.Tensor1D;
}

/**
 * What a row's score is: `density`, log p(x) = log p_prior(f(x)) + log|det ∂f/∂x| (the model's
 * log-likelihood), or `latent`, log p_prior(f(x)) alone: how far into the prior's tails the row's latent
 * lies, without the Jacobian term that gives rows in a stretched (heavy-tailed) region of the data a
 * moderate density. Both in nats, higher = more normal.
 */
export const SCORE_KINDS = ['density', 'latent'] as const;
export type ScoreKind = (typeof SCORE_KINDS)[number];

/** JSON form of a float32 tensor: shape plus little-endian float32 bytes in base64 (exact round trip). */
export interface SerializedTensor {
  readonly shape: number[];
  readonly dtype: 'float32';
  readonly data: string;
}

/** JSON form of a transform or prior: its kind, its constructor config and its named weights. */
export interface ModuleSpec {
  readonly kind: string;
  readonly config: Record<string, unknown>;
  readonly weights: Record<string, SerializedTensor>;
}

/** Anything that owns trainable tfjs variables and can be serialized. */
export interface Module {
  /** Registered kind, used to find the deserializer. */
  readonly kind: string;
  /** Data dimensionality. */
  readonly dim: number;
  /** The variables the trainer updates. */
  trainableVariables(): tf.Variable[];
  /** Architecture and weights, as JSON. */
  toJSON(): ModuleSpec;
  /** Frees all variables. The module is unusable afterwards. */
  dispose(): void;
}

/** An invertible transform with a cheap log-determinant. */
export interface Bijector extends Module {
  /** data → latent, with log|det J| per row. */
  forward(x: tf.Tensor2D): ForwardResult;
  /** latent → data. */
  inverse(z: tf.Tensor2D): tf.Tensor2D;
  /**
   * Optional data-dependent initialisation (e.g. ActNorm). Called once by `NormalizingFlow.initialize`
   * with the batch as it arrives at this transform; must not keep references to `x`.
   */
  initialize?(x: tf.Tensor2D): void;
}

/** A base distribution over the latent space. */
export interface Prior extends Module {
  /** log p(z) per row, in nats. */
  logProb(z: tf.Tensor2D): tf.Tensor1D;
  /** `n` samples, drawn from the injected `rng` so that results are reproducible. */
  sample(n: number, rng: Rng): tf.Tensor2D;
}
