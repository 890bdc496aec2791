import type { Rng } from '../../core/rng.js';
import * as tf from '../tf.js';
import { checkDim, checkInput, configDim, parseSpec } from '../transforms/elementwise-common.js';
import type { ModuleSpec, Prior } from '../types.js';
import { checkSampleSize, HALF_LOG_2PI, normalNoise, rowSum } from './prior-common.js';

/** Options of `StandardNormal`. */
export interface StandardNormalOptions {
  /** Number of latent dimensions. */
  readonly dim: number;
}

/**
 * N(0, I) over ℝ^dim: log p(z) = −½‖z‖² − (dim/2)·log 2π. No trainable variables.
 * Kind `standard-normal`; config `{dim}`; no weights.
 */
export class StandardNormal implements Prior {
  static readonly kind = 'standard-normal';
  readonly kind = StandardNormal.kind;
  readonly dim: number;

  constructor(options: StandardNormalOptions) {
    this.dim = checkDim(options?.dim, StandardNormal.kind);
  }

  logProb(z: tf.Tensor2D): tf.Tensor1D {
    checkInput(z, this.dim, this.kind);
    return tf.tidy(() => tf.sub(tf.mul(-0.5, rowSum(tf.square(z))), this.dim * HALF_LOG_2PI) as tf.Tensor1D);
  }

  sample(n: number, rng: Rng): tf.Tensor2D {
    checkSampleSize(n, this.kind);
    return normalNoise(n, this.dim, rng);
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  toJSON(): ModuleSpec {
    return { kind: this.kind, config: { dim: this.dim }, weights: {} };
  }

  /** Rebuilds from `toJSON` output; throws `SerializationError` on a wrong kind or config. */
  static fromJSON(spec: ModuleSpec): StandardNormal {
    const { config } = parseSpec(spec, StandardNormal.kind);
    return new StandardNormal({ dim: configDim(config, StandardNormal.kind) });
  }

  dispose(): void {
    // No variables.
  }
}
