import type { Rng } from '../../core/rng.js';
import { Mlp } from '../nn.js';
import {
  ACTIVATIONS,
  type Activation,
  checkBatchShape,
  checkChoice,
  checkHidden,
  checkInt,
  checkRange,
  type Fail,
  failOption,
} from '../nn-options.js';
import * as tf from '../tf.js';
import type { Bijector, ForwardResult, ModuleSpec, SerializedTensor } from '../types.js';
import { CouplingSplit } from './coupling-split.js';
import { disposeAll, networkInit, networkSpec, reviveNetwork } from './network-transform.js';
import { type SplineParams, type SplineShape, splineForward, splineInverse } from './rq-spline.js';

/** Options of `SplineCoupling`. */
export interface SplineCouplingOptions {
  /** Data dimensionality (≥ 1). */
  readonly dim: number;
  /** Dimensions with index mod 2 = parity condition; the others are transformed. Default 0. */
  readonly parity?: 0 | 1;
  /** Conditioner hidden widths; a number n means [n, n]. Default [64, 64]. */
  readonly hidden?: number | readonly number[];
  /** Conditioner activation. Default 'tanh'. */
  readonly activation?: Activation;
  /** Number of spline bins K (≥ 2). Default 8. */
  readonly bins?: number;
  /** Half-width B of the spline interval [−B, B]; identity outside. Default 4. */
  readonly bound?: number;
  /** Minimum bin width/height as a fraction of 2B; bins·minBinSize must be < 1. Default 1e-3. */
  readonly minBinSize?: number;
  /** Minimum interior derivative. Default 1e-3. */
  readonly minDerivative?: number;
  /** Weight-initialisation randomness. Default `createRng(0)`. */
  readonly rng?: Rng;
}

/** Plain-JSON config stored in the spec. */
export interface SplineCouplingConfig extends SplineShape {
  readonly dim: number;
  readonly parity: 0 | 1;
  readonly hidden: number[];
  readonly activation: Activation;
}

function parseConfig(raw: Record<string, unknown>, fail: Fail): SplineCouplingConfig {
  const parity = raw.parity ?? 0;
  if (parity !== 0 && parity !== 1) fail(`parity must be 0 or 1, got ${String(raw.parity)}`);
  const bins = checkInt('bins', raw.bins, 2, fail, 8);
  const minBinSize = checkRange('minBinSize', raw.minBinSize, 0, 1, fail, 1e-3);
  if (bins * minBinSize >= 1) {
    fail(`bins · minBinSize must be < 1 (got ${bins} · ${minBinSize}); lower minBinSize or bins`);
  }
  return {
    dim: checkInt('dim', raw.dim, 1, fail),
    parity: parity as 0 | 1,
    hidden: checkHidden(raw.hidden, fail),
    activation: checkChoice('activation', raw.activation, ACTIVATIONS, fail, 'tanh'),
    bins,
    bound: checkRange('bound', raw.bound, 0, 1e6, fail, 4),
    minBinSize,
    minDerivative: checkRange('minDerivative', raw.minDerivative, 0, 1, fail, 1e-3),
  };
}

/**
 * Rational-quadratic spline coupling (Durkan et al. 2019). The transformed half goes through a monotonic
 * RQ spline on [−B, B] (identity outside, log|det| contribution 0 there) whose K widths, K heights and
 * K − 1 interior slopes come from an MLP on the conditioning half. The MLP's last layer starts at zero,
 * which gives uniform bins and unit slopes: the identity. For dim = 1 see `CouplingSplit` (an
 * unconditional elementwise spline).
 */
export class SplineCoupling implements Bijector {
  static readonly kind = 'spline-coupling';
  readonly kind = SplineCoupling.kind;
  readonly dim: number;
  readonly config: SplineCouplingConfig;
  private readonly split: CouplingSplit;
  private readonly net: Mlp;

  /** `weights` is for `fromJSON`: saved conditioner weights instead of a fresh initialisation. */
  constructor(options: SplineCouplingOptions, weights?: Readonly<Record<string, SerializedTensor>>) {
    this.config = parseConfig({ ...options }, failOption);
    this.dim = this.config.dim;
    this.split = new CouplingSplit(this.dim, this.config.parity);
    const init = networkInit(options.rng, weights, 'net.');
    const out = this.split.transSize * (3 * this.config.bins - 1);
    const sizes = [this.split.condSize, ...this.config.hidden, out];
    try {
      this.net = new Mlp({ sizes, activation: this.config.activation }, init, failOption);
    } catch (err) {
      this.split.dispose();
      throw err;
    }
  }

  /** Spline parameters `[batch, |trans|, ·]` from the conditioning part. */
  private params(cond: tf.Tensor2D): SplineParams {
    const { bins } = this.config;
    const n = cond.shape[0];
    const k = this.split.transSize;
    const out = tf.reshape(this.net.apply(cond), [n, k, 3 * bins - 1]) as tf.Tensor3D;
    return {
      widths: tf.slice(out, [0, 0, 0], [n, k, bins]),
      heights: tf.slice(out, [0, 0, bins], [n, k, bins]),
      derivatives: tf.slice(out, [0, 0, 2 * bins], [n, k, bins - 1]),
    };
  }

  forward(x: tf.Tensor2D): ForwardResult {
    checkBatchShape(x.shape, this.dim, this.kind);
    return tf.tidy(() => {
      const { cond, trans } = this.split.split(x);
      const { y, logDeriv } = splineForward(trans, this.params(cond), this.config);
      return { z: this.split.merge(x, y), logDet: tf.sum(logDeriv, 1) as tf.Tensor1D };
    });
  }

  inverse(z: tf.Tensor2D): tf.Tensor2D {
    checkBatchShape(z.shape, this.dim, this.kind);
    return tf.tidy(() => {
      const { cond, trans } = this.split.split(z);
      return this.split.merge(z, splineInverse(trans, this.params(cond), this.config));
    });
  }

  trainableVariables(): tf.Variable[] {
    return this.net.variables();
  }

  toJSON(): ModuleSpec {
    return networkSpec(this.kind, this.config, this.net, 'net.');
  }

  /** Rebuilds from `toJSON` output; throws `SerializationError` on a bad config or weight shape. */
  static fromJSON(spec: ModuleSpec): SplineCoupling {
    return reviveNetwork(spec, SplineCoupling.kind, parseConfig, (c, w) => new SplineCoupling(c, w));
  }

  dispose(): void {
    disposeAll(this.net, this.split);
  }
}
