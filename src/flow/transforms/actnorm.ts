import { InvalidOptionError, SerializationError } from '../../errors.js';
import * as tf from '../tf.js';
import type { ModuleSpec } from '../types.js';
import { PerDimensionAffine } from './affine.js';
import { checkInput, configDim, parseSpec, reviveWith } from './elementwise-common.js';

/** Default variance guard of `ActNorm.initialize`: the scale is √(var + 1e-6), so at least 1e-3 data units. */
export const ACTNORM_DEFAULT_EPSILON = 1e-6;

/** Options of `ActNorm`. */
export interface ActNormOptions {
  /** Number of data columns. */
  readonly dim: number;
  /**
   * Added to each column's batch variance (data units²) before the square root in `initialize`, so a
   * constant column gets a finite scale. Columns whose std is well above √epsilon come out with unit
   * variance; smaller ones with variance var/(var + epsilon). Default `ACTNORM_DEFAULT_EPSILON`.
   */
  readonly epsilon?: number;
}

/**
 * Activation normalisation (Glow): a per-dimension affine z = (x − shift) · exp(−logScale) whose
 * parameters are set from the first batch by `initialize`, so that batch comes out with zero mean and unit
 * variance per column. Afterwards (or once restored from JSON) it trains like `ElementwiseAffine`.
 * Before initialisation it is the identity.
 *
 * Kind `actnorm`; config `{dim, epsilon, initialized}`; weights `shift`, `logScale` (both `[dim]`).
 */
export class ActNorm extends PerDimensionAffine {
  static readonly kind = 'actnorm';
  readonly kind = ActNorm.kind;
  readonly epsilon: number;
  private initialized = false;

  constructor(options: ActNormOptions) {
    super(options?.dim, ActNorm.kind);
    const epsilon = options.epsilon ?? ACTNORM_DEFAULT_EPSILON;
    if (!(Number.isFinite(epsilon) && epsilon > 0)) {
      this.dispose();
      throw new InvalidOptionError(
        `actnorm: epsilon must be a finite number > 0 (variance guard, e.g. 1e-6), got ${epsilon}`,
        { context: { epsilon } },
      );
    }
    this.epsilon = epsilon;
  }

  /** Whether the data-dependent initialisation has happened (restored from JSON as it was saved). */
  get isInitialized(): boolean {
    return this.initialized;
  }

  /**
   * Sets shift = column mean and logScale = ½·log(column variance + epsilon) of `x` (`[batch, dim]`,
   * batch ≥ 1), so `forward(x).z` has zero mean and (near) unit variance per column. A no-op once
   * initialised, so restored or trained parameters are never overwritten. Throws `InvalidOptionError`
   * if `x` is empty or yields non-finite statistics (NaN/Infinity in the batch).
   */
  initialize(x: tf.Tensor2D): void {
    if (this.initialized) return;
    checkInput(x, this.dim, ActNorm.kind);
    if (x.shape[0] < 1)
      throw new InvalidOptionError('actnorm: initialize needs a batch with at least one row');
    const stats = tf.tidy(() => {
      const { mean, variance } = tf.moments(x, 0);
      return tf.stack([mean, tf.mul(0.5, tf.log(tf.add(variance, this.epsilon)))]) as tf.Tensor2D;
    });
    const finite = (stats.dataSync() as Float32Array).every(Number.isFinite);
    if (!finite) {
      stats.dispose();
      throw new InvalidOptionError(
        'actnorm: initialize got non-finite column statistics; pass a batch without NaN or Infinity',
      );
    }
    const [shift, logScale] = tf.unstack(stats);
    stats.dispose();
    this.shift.assign(shift!);
    this.logScale.assign(logScale!);
    shift!.dispose();
    logScale!.dispose();
    this.initialized = true;
  }

  toJSON(): ModuleSpec {
    return {
      kind: this.kind,
      config: { dim: this.dim, epsilon: this.epsilon, initialized: this.initialized },
      weights: this.encodeWeights(),
    };
  }

  /** Rebuilds from `toJSON` output; throws `SerializationError` on a wrong kind, config or weight. */
  static fromJSON(spec: ModuleSpec): ActNorm {
    const { config, weights } = parseSpec(spec, ActNorm.kind);
    const dim = configDim(config, ActNorm.kind);
    if (typeof config.initialized !== 'boolean') {
      throw new SerializationError('actnorm: config.initialized must be a boolean');
    }
    if (typeof config.epsilon !== 'number')
      throw new SerializationError('actnorm: config.epsilon must be a number');
    const epsilon = config.epsilon;
    const norm = reviveWith(ActNorm.kind, () => new ActNorm({ dim, epsilon }));
    try {
      norm.loadWeights(weights);
    } catch (err) {
      norm.dispose();
      throw err;
    }
    norm.initialized = config.initialized;
    return norm;
  }
}
