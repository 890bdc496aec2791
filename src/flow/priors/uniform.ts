import type { Rng } from '../../core/rng.js';
import * as tf from '../tf.js';
import { checkDim, checkInput, configDim, parseSpec } from '../transforms/elementwise-common.js';
import type { ModuleSpec, Prior } from '../types.js';
import { checkSampleSize, rowSum, sampleMatrix } from './prior-common.js';

/**
 * Log-density, in nats, that `Uniform01` assigns to each coordinate outside [0, 1] (and to NaN). Finite
 * rather than −Infinity so scores, sums and gradients stay finite; low enough (−1e6 per coordinate) to rank
 * any such point below every in-support point. `NormalizingFlow` further floors totals at LOG_PROB_FLOOR.
 */
export const UNIFORM_OUTSIDE_LOG_PROB = -1e6;

/** Options of `Uniform01`. */
export interface Uniform01Options {
  /** Number of latent dimensions. */
  readonly dim: number;
}

/**
 * The uniform distribution on the unit cube: log p(z) = 0 when every z_j ∈ [0, 1]. The closed interval
 * counts as inside, so a bijector output that rounds to exactly 0 or 1 in float32 is not penalised;
 * each coordinate outside (or NaN) adds `UNIFORM_OUTSIDE_LOG_PROB`. No trainable variables; the
 * log-density has zero gradient everywhere.
 * Kind `uniform`; config `{dim}`; no weights.
 */
export class Uniform01 implements Prior {
  static readonly kind = 'uniform';
  readonly kind = Uniform01.kind;
  readonly dim: number;

  constructor(options: Uniform01Options) {
    this.dim = checkDim(options?.dim, Uniform01.kind);
  }

  logProb(z: tf.Tensor2D): tf.Tensor1D {
    checkInput(z, this.dim, this.kind);
    return tf.tidy(() => {
      const inside = tf.logicalAnd(tf.greaterEqual(z, 0), tf.lessEqual(z, 1));
      const outside = tf.sub(1, tf.cast(inside, 'float32'));
      // 0 − count·|floor| rather than count·floor, so an all-inside row is +0, not −0.
      return tf.sub(0, tf.mul(rowSum(outside), -UNIFORM_OUTSIDE_LOG_PROB)) as tf.Tensor1D;
    });
  }

  sample(n: number, rng: Rng): tf.Tensor2D {
    checkSampleSize(n, this.kind);
    return sampleMatrix(n, this.dim, rng, (r) => r.uniform());
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  toJSON(): ModuleSpec {
    return { kind: this.kind, config: { dim: this.dim }, weights: {} };
  }

  /** Rebuilds from `toJSON` output; throws `SerializationError` on a wrong kind or config. */
  static fromJSON(spec: ModuleSpec): Uniform01 {
    const { config } = parseSpec(spec, Uniform01.kind);
    return new Uniform01({ dim: configDim(config, Uniform01.kind) });
  }

  dispose(): void {
    // No variables.
  }
}
