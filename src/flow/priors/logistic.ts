import type { Rng } from '../../core/rng.js';
import * as tf from '../tf.js';
import { checkDim, checkInput, configDim, parseSpec } from '../transforms/elementwise-common.js';
import type { ModuleSpec, Prior } from '../types.js';
import { checkSampleSize, rowSum, sampleMatrix } from './prior-common.js';

/** Options of `Logistic`. */
export interface LogisticOptions {
  /** Number of latent dimensions. */
  readonly dim: number;
}

/** A standard logistic variate by inversion, log(u/(1 − u)) with u ∈ (0, 1) (0 is redrawn). */
function sampleLogistic(rng: Rng): number {
  let u = rng.uniform();
  while (u === 0) u = rng.uniform();
  return Math.log(u) - Math.log1p(-u);
}

/**
 * Independent standard logistic per dimension (location 0, scale 1; variance π²/3):
 * log p(z) = Σ_j −z_j − 2·log(1 + e^(−z_j)), evaluated as −|z| − 2·softplus(−|z|), which is finite for every
 * finite z (≈ −|z| in the tails). It is the natural prior after a map to logit space, since
 * log p(logit u) + log|d logit u / du| = 0 on (0, 1). No trainable variables.
 * Kind `logistic`; config `{dim}`; no weights.
 */
export class Logistic implements Prior {
  static readonly kind = 'logistic';
  readonly kind = Logistic.kind;
  readonly dim: number;

  constructor(options: LogisticOptions) {
    this.dim = checkDim(options?.dim, Logistic.kind);
  }

  logProb(z: tf.Tensor2D): tf.Tensor1D {
    checkInput(z, this.dim, this.kind);
    return tf.tidy(() => {
      const a = tf.abs(z);
      return rowSum(tf.neg(tf.add(a, tf.mul(2, tf.softplus(tf.neg(a))))));
    });
  }

  sample(n: number, rng: Rng): tf.Tensor2D {
    checkSampleSize(n, this.kind);
    return sampleMatrix(n, this.dim, rng, sampleLogistic);
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  toJSON(): ModuleSpec {
    return { kind: this.kind, config: { dim: this.dim }, weights: {} };
  }

  /** Rebuilds from `toJSON` output; throws `SerializationError` on a wrong kind or config. */
  static fromJSON(spec: ModuleSpec): Logistic {
    const { config } = parseSpec(spec, Logistic.kind);
    return new Logistic({ dim: configDim(config, Logistic.kind) });
  }

  dispose(): void {
    // No variables.
  }
}
