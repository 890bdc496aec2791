import type { Rng } from '../../core/rng.js';
import { MADE_ORDERS, type MadeOrder, Mlp, madeMasks } from '../nn.js';
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
import { disposeAll, networkInit, networkSpec, reviveNetwork } from './network-transform.js';

/** Default soft clamp c of the log-scale α. */
export const DEFAULT_MAF_CLAMP = 3;

/** Options of `MaskedAutoregressive`. */
export interface MaskedAutoregressiveOptions {
  /** Data dimensionality (≥ 1). */
  readonly dim: number;
  /** MADE hidden widths, each ≥ dim − 1; a number n means [n, n]. Default [64, 64]. */
  readonly hidden?: number | readonly number[];
  /** Autoregressive order; alternate it in a stack. Default 'natural'. */
  readonly order?: MadeOrder;
  /** Hidden activation. Default 'relu' (fits the multimodal ring toy far better than tanh). */
  readonly activation?: Activation;
  /** Soft clamp c of the log-scale, α = c·tanh(α_raw / c). Default 3. */
  readonly clamp?: number;
  /** Weight-initialisation randomness. Default `createRng(0)`. */
  readonly rng?: Rng;
}

/** Plain-JSON config stored in the spec. */
export interface MaskedAutoregressiveConfig {
  readonly dim: number;
  readonly hidden: number[];
  readonly order: MadeOrder;
  readonly activation: Activation;
  readonly clamp: number;
}

function parseConfig(raw: Record<string, unknown>, fail: Fail): MaskedAutoregressiveConfig {
  const dim = checkInt('dim', raw.dim, 1, fail);
  const hidden = checkHidden(raw.hidden, fail);
  const narrow = hidden.find((h) => h < dim - 1);
  if (narrow !== undefined) {
    fail(`every hidden width must be ≥ dim − 1 = ${dim - 1} so each dimension can see its predecessors`);
  }
  return {
    dim,
    hidden,
    order: checkChoice('order', raw.order, MADE_ORDERS, fail, 'natural'),
    activation: checkChoice('activation', raw.activation, ACTIVATIONS, fail, 'relu'),
    clamp: checkRange('clamp', raw.clamp, 0, 1e3, fail, DEFAULT_MAF_CLAMP),
  };
}

/**
 * Masked autoregressive flow layer (Papamakarios et al. 2017) with an affine MADE conditioner. For each
 * dimension i (in `order`), μ_i and α_i depend only on the earlier dimensions x_<i:
 *   data → latent (parallel, one MADE pass):  z = (x − μ(x)) · e^{−α(x)},  log|det| = −Σ α,
 *   latent → data (sequential, dim passes):   x_i = z_i · e^{α_i(x_<i)} + μ_i(x_<i).
 * α = c·tanh(α_raw / c) is soft-clamped; the MADE output layer starts at zero so a new layer is the
 * identity. With dim = 1 the layer is an elementwise affine map with learned constants.
 */
export class MaskedAutoregressive implements Bijector {
  static readonly kind = 'maf';
  readonly kind = MaskedAutoregressive.kind;
  readonly dim: number;
  readonly config: MaskedAutoregressiveConfig;
  private readonly made: Mlp;

  /** `weights` is for `fromJSON`: saved MADE weights instead of a fresh initialisation. */
  constructor(options: MaskedAutoregressiveOptions, weights?: Readonly<Record<string, SerializedTensor>>) {
    this.config = parseConfig({ ...options }, failOption);
    const { dim, hidden, order, activation } = this.config;
    this.dim = dim;
    const init = networkInit(options.rng, weights, 'made.');
    const masks = madeMasks(dim, hidden, 2, order);
    this.made = new Mlp({ sizes: [dim, ...hidden, 2 * dim], activation, masks }, init, failOption);
  }

  /** Shift μ and clamped log-scale α, each `[batch, dim]`, autoregressive in `x`. */
  private params(x: tf.Tensor2D): { shift: tf.Tensor2D; logScale: tf.Tensor2D } {
    const out = this.made.apply(x);
    const [n, d] = [out.shape[0], this.dim];
    const c = this.config.clamp;
    const raw = tf.slice(out, [0, d], [n, d]);
    return {
      shift: tf.slice(out, [0, 0], [n, d]),
      logScale: tf.mul(tf.tanh(tf.div(raw, c)), c) as tf.Tensor2D,
    };
  }

  forward(x: tf.Tensor2D): ForwardResult {
    checkBatchShape(x.shape, this.dim, this.kind);
    return tf.tidy(() => {
      const { shift, logScale } = this.params(x);
      const z = tf.mul(tf.sub(x, shift), tf.exp(tf.neg(logScale))) as tf.Tensor2D;
      return { z, logDet: tf.neg(tf.sum(logScale, 1)) as tf.Tensor1D };
    });
  }

  /** After pass k the first k dimensions in the order are exact, so dim passes invert exactly. */
  inverse(z: tf.Tensor2D): tf.Tensor2D {
    checkBatchShape(z.shape, this.dim, this.kind);
    let x = tf.zerosLike(z);
    for (let pass = 0; pass < this.dim; pass++) {
      const prev = x;
      x = tf.tidy(() => {
        const { shift, logScale } = this.params(prev);
        return tf.add(tf.mul(z, tf.exp(logScale)), shift) as tf.Tensor2D;
      });
      prev.dispose();
    }
    return x;
  }

  trainableVariables(): tf.Variable[] {
    return this.made.variables();
  }

  toJSON(): ModuleSpec {
    return networkSpec(this.kind, this.config, this.made, 'made.');
  }

  /** Rebuilds from `toJSON` output; throws `SerializationError` on a bad config or weight shape. */
  static fromJSON(spec: ModuleSpec): MaskedAutoregressive {
    return reviveNetwork(
      spec,
      MaskedAutoregressive.kind,
      parseConfig,
      (c, w) => new MaskedAutoregressive(c, w),
    );
  }

  dispose(): void {
    disposeAll(this.made);
  }
}
