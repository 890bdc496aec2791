import * as tf from '../tf.js';
import type { Bijector, ForwardResult, ModuleSpec } from '../types.js';
import { checkDim, checkInput, configDim, parseSpec } from './elementwise-common.js';

/**
 * Inputs of a logit are clamped to [LOGIT_EPS, 1 − LOGIT_EPS]. 1e-6 is about 17 float32 ulps below 1
 * (ulp(1⁻) = 2⁻²⁴ ≈ 6e-8), so 1 − LOGIT_EPS is exactly representable and distinct from 1, and the logit
 * of a boundary value is ±13.8 instead of ±Infinity.
 */
export const LOGIT_EPS = 1e-6;

/** Options of `Sigmoid` and `Logit`. */
export interface SquashOptions {
  /** Number of data columns. */
  readonly dim: number;
}

/** log σ'(x) = log σ(x) + log σ(−x) = −softplus(−x) − softplus(x); finite for every finite x. */
function logSigmoidDerivative(x: tf.Tensor): tf.Tensor {
  return tf.neg(tf.add(tf.softplus(tf.neg(x)), tf.softplus(x)));
}

/** log(p / (1 − p)) of p clamped to [LOGIT_EPS, 1 − LOGIT_EPS]. */
function clampedLogit(p: tf.Tensor): tf.Tensor {
  const c = tf.clipByValue(p, LOGIT_EPS, 1 - LOGIT_EPS);
  return tf.sub(tf.log(c), tf.log1p(tf.neg(c)));
}

function rowSum(t: tf.Tensor): tf.Tensor1D {
  return tf.sum(t, 1) as tf.Tensor1D;
}

/**
 * Parameter-free squashing bijector shared by `Sigmoid` and `Logit`: `up` maps ℝ → (0, 1) by σ, `down`
 * maps (0, 1) → ℝ by the clamped logit.
 */
abstract class Squash implements Bijector {
  abstract readonly kind: string;
  readonly dim: number;
  private readonly label: string;

  protected constructor(dim: unknown, label: string) {
    this.dim = checkDim(dim, label);
    this.label = label;
  }

  abstract forward(x: tf.Tensor2D): ForwardResult;
  abstract inverse(z: tf.Tensor2D): tf.Tensor2D;

  /** Applies σ, with log|det| = Σ log σ'(x) per row. */
  protected up(x: tf.Tensor2D): ForwardResult {
    checkInput(x, this.dim, this.label);
    const [z, logDet] = tf.tidy(() => [tf.sigmoid(x), rowSum(logSigmoidDerivative(x))]);
    return { z: z as tf.Tensor2D, logDet: logDet as tf.Tensor1D };
  }

  /**
   * Applies the clamped logit, with log|det| = −Σ log σ'(logit p) per row, i.e. Σ −log p − log(1 − p)
   * at the clamped p (so finite at the boundary).
   */
  protected down(p: tf.Tensor2D): ForwardResult {
    checkInput(p, this.dim, this.label);
    const [z, logDet] = tf.tidy(() => {
      const y = clampedLogit(p);
      return [y, tf.neg(rowSum(logSigmoidDerivative(y)))];
    });
    return { z: z as tf.Tensor2D, logDet: logDet as tf.Tensor1D };
  }

  /** σ(x) without the log-determinant. */
  protected upOnly(x: tf.Tensor2D): tf.Tensor2D {
    checkInput(x, this.dim, this.label);
    return tf.sigmoid(x);
  }

  /** Clamped logit without the log-determinant. */
  protected downOnly(p: tf.Tensor2D): tf.Tensor2D {
    checkInput(p, this.dim, this.label);
    return tf.tidy(() => clampedLogit(p) as tf.Tensor2D);
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  toJSON(): ModuleSpec {
    return { kind: this.kind, config: { dim: this.dim }, weights: {} };
  }

  dispose(): void {
    // No variables.
  }
}

/**
 * z = σ(x) = 1 / (1 + e^(−x)), ℝ → (0, 1), elementwise. In float32 σ(x) rounds to exactly 1 for
 * x ≳ 16.6, where `inverse` (the clamped logit) can no longer recover x; accurate round trips need |x| ≲ 8.
 * Kind `sigmoid`; config `{dim}`; no weights.
 */
export class Sigmoid extends Squash {
  static readonly kind = 'sigmoid';
  readonly kind = Sigmoid.kind;

  constructor(options: SquashOptions) {
    super(options?.dim, Sigmoid.kind);
  }

  forward(x: tf.Tensor2D): ForwardResult {
    return this.up(x);
  }

  /** Clamped logit; inputs outside (0, 1) are clamped to [LOGIT_EPS, 1 − LOGIT_EPS]. */
  inverse(z: tf.Tensor2D): tf.Tensor2D {
    return this.downOnly(z);
  }

  /** Rebuilds from `toJSON` output; throws `SerializationError` on a wrong kind or config. */
  static fromJSON(spec: ModuleSpec): Sigmoid {
    const { config } = parseSpec(spec, Sigmoid.kind);
    return new Sigmoid({ dim: configDim(config, Sigmoid.kind) });
  }
}

/**
 * z = log(x / (1 − x)), (0, 1) → ℝ, elementwise, for data bounded in (0, 1) (rates, fractions). The input is
 * clamped to [LOGIT_EPS, 1 − LOGIT_EPS] so 0 and 1 map to ±13.8 with a finite log-determinant; the
 * log-determinant is the one of the unclamped logit at the clamped point.
 * Kind `logit`; config `{dim}`; no weights.
 */
export class Logit extends Squash {
  static readonly kind = 'logit';
  readonly kind = Logit.kind;

  constructor(options: SquashOptions) {
    super(options?.dim, Logit.kind);
  }

  forward(x: tf.Tensor2D): ForwardResult {
    return this.down(x);
  }

  /** σ(z). */
  inverse(z: tf.Tensor2D): tf.Tensor2D {
    return this.upOnly(z);
  }

  /** Rebuilds from `toJSON` output; throws `SerializationError` on a wrong kind or config. */
  static fromJSON(spec: ModuleSpec): Logit {
    const { config } = parseSpec(spec, Logit.kind);
    return new Logit({ dim: configDim(config, Logit.kind) });
  }
}
