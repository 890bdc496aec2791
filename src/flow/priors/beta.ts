import type { Rng } from '../../core/rng.js';
import { InvalidOptionError, SerializationError } from '../../errors.js';
import { lgammaF64 } from '../special.js';
import * as tf from '../tf.js';
import { checkDim, checkInput, configDim, parseSpec, reviveWith } from '../transforms/elementwise-common.js';
import type { ModuleSpec, Prior } from '../types.js';
import { checkSampleSize, rowSum, sampleMatrix } from './prior-common.js';

/**
 * Inputs are clamped to [BETA_Z_MIN, BETA_Z_MAX] before the log-density is evaluated.
 * BETA_Z_MIN = 2⁻¹²⁶ is the smallest normal float32 (log = −87.3); BETA_Z_MAX = 1 − 2⁻²⁴ is the largest
 * float32 below 1 (log(1 − z) = −16.6). So z = 0, z = 1 (and values outside [0, 1], which a bijector with
 * (0, 1) range only produces through rounding) get the finite density of the nearest bound, never ±Infinity.
 */
export const BETA_Z_MIN = 2 ** -126;
/** See `BETA_Z_MIN`. */
export const BETA_Z_MAX = 1 - 2 ** -24;

/** Options of `Beta`. */
export interface BetaOptions {
  /** Number of latent dimensions; each is an independent Beta(alpha, beta). */
  readonly dim: number;
  /** First shape parameter α > 0 (fixed, not trained). */
  readonly alpha: number;
  /** Second shape parameter β > 0 (fixed, not trained). */
  readonly beta: number;
}

function checkShape(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(`beta: ${name} must be a finite number > 0 (e.g. 2), got ${String(value)}`, {
      context: { name, value },
    });
  }
  return value;
}

/**
 * A Gamma(shape, 1) variate by Marsaglia & Tsang (2000); shapes below 1 use the boost
 * Gamma(a) = Gamma(a + 1)·U^(1/a).
 */
export function sampleGamma(shape: number, rng: Rng): number {
  if (shape < 1) return sampleGamma(shape + 1, rng) * (1 - rng.uniform()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = rng.uniform();
    if (u < 1 - 0.0331 * x ** 4) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * Independent Beta(α, β) per dimension on (0, 1)^dim, with fixed shapes:
 * log p(z) = Σ_j (α−1)·log z_j + (β−1)·log(1 − z_j) − log B(α, β).
 * The normaliser log B(α, β) is computed once in float64 (`lgammaF64`), so the float32 density is exact up
 * to rounding. Boundary handling: see `BETA_Z_MIN`. Sampling draws two Gamma variates per value
 * (Marsaglia–Tsang) from the injected rng. No trainable variables.
 * Kind `beta`; config `{dim, alpha, beta}`; no weights.
 */
export class Beta implements Prior {
  static readonly kind = 'beta';
  readonly kind = Beta.kind;
  readonly dim: number;
  readonly alpha: number;
  readonly beta: number;
  /** log B(α, β), nats. */
  readonly logNormalizer: number;

  constructor(options: BetaOptions) {
    this.dim = checkDim(options?.dim, Beta.kind);
    this.alpha = checkShape(options.alpha, 'alpha');
    this.beta = checkShape(options.beta, 'beta');
    this.logNormalizer = lgammaF64(this.alpha) + lgammaF64(this.beta) - lgammaF64(this.alpha + this.beta);
  }

  logProb(z: tf.Tensor2D): tf.Tensor1D {
    checkInput(z, this.dim, this.kind);
    return tf.tidy(() => {
      const c = tf.clipByValue(z, BETA_Z_MIN, BETA_Z_MAX);
      const perDim = tf.add(tf.mul(this.alpha - 1, tf.log(c)), tf.mul(this.beta - 1, tf.log(tf.sub(1, c))));
      return tf.sub(rowSum(perDim), this.dim * this.logNormalizer) as tf.Tensor1D;
    });
  }

  sample(n: number, rng: Rng): tf.Tensor2D {
    checkSampleSize(n, this.kind);
    return sampleMatrix(n, this.dim, rng, (r) => {
      const a = sampleGamma(this.alpha, r);
      return a / (a + sampleGamma(this.beta, r));
    });
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  toJSON(): ModuleSpec {
    return { kind: this.kind, config: { dim: this.dim, alpha: this.alpha, beta: this.beta }, weights: {} };
  }

  /** Rebuilds from `toJSON` output; throws `SerializationError` on a wrong kind or config. */
  static fromJSON(spec: ModuleSpec): Beta {
    const { config } = parseSpec(spec, Beta.kind);
    const dim = configDim(config, Beta.kind);
    if (typeof config.alpha !== 'number' || typeof config.beta !== 'number') {
      throw new SerializationError('beta: config.alpha and config.beta must be numbers', {
        context: { alpha: config.alpha, beta: config.beta },
      });
    }
    const { alpha, beta } = config;
    return reviveWith(Beta.kind, () => new Beta({ dim, alpha, beta }));
  }

  dispose(): void {
    // No variables.
  }
}
