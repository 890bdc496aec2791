import type { Rng } from '../core/rng.js';
import type { Activation, Fail } from './nn-options.js';
import { encodeTensor, readWeight } from './tensor-codec.js';
import * as tf from './tf.js';
import type { SerializedTensor } from './types.js';

/**
 * Small multilayer perceptrons on `tf.variable`, used as conditioners by the coupling and autoregressive
 * transforms. Weights are `[in, out]` (y = x·W + b); an optional constant 0/1 mask per layer turns the
 * MLP into a MADE network.
 */

/** Where an MLP's initial weights come from. */
export type MlpInit =
  /** Glorot-uniform weights and zero biases drawn from `rng`; `zeroOutput` zeroes the last layer. */
  | { readonly rng: Rng; readonly zeroOutput?: boolean }
  /** Saved weights named `<prefix><layer>.w` / `<prefix><layer>.b` (see `Mlp.encode`). */
  | { readonly weights: Readonly<Record<string, SerializedTensor>>; readonly prefix: string };

/** Architecture of an MLP. */
export interface MlpConfig {
  /** Layer widths including input and output: `[in, h1, …, out]`, at least two entries. */
  readonly sizes: readonly number[];
  readonly activation: Activation;
  /** Optional 0/1 connectivity masks, one `[sizes[l], sizes[l+1]]` row-major array per layer. */
  readonly masks?: readonly Float32Array[];
}

/** Glorot (Xavier) uniform values for a `[fanIn, fanOut]` weight: U(−a, a), a = √(6 / (fanIn + fanOut)). */
export function glorotUniform(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * a;
  return out;
}

/** tanh as 2·σ(2x) − 1: the wasm backend's Tanh kernel is several times slower than its Sigmoid. */
function fastTanh(x: tf.Tensor): tf.Tensor {
  return tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1);
}

/** Applies `activation` elementwise. */
export function activate(x: tf.Tensor, activation: Activation | 'linear'): tf.Tensor {
  switch (activation) {
    case 'tanh':
      return fastTanh(x);
    case 'relu':
      return tf.relu(x);
    case 'elu':
      return tf.elu(x);
    case 'linear':
      return x;
  }
}

/** d activation / d pre-activation, from the pre-activation `pre` and the output `y`. */
function activationSlope(
  pre: tf.Tensor,
  y: tf.Tensor,
  activation: Activation | 'linear',
): tf.Tensor | undefined {
  switch (activation) {
    case 'tanh':
      return tf.sub(1, tf.square(y));
    case 'relu':
      return tf.step(pre);
    case 'elu': {
      const pos = tf.step(pre);
      return tf.add(pos, tf.mul(tf.sub(1, pos), tf.add(y, 1)));
    }
    case 'linear':
      return undefined;
  }
}

/**
 * y = act(x·W + b) with a hand-written gradient. tfjs differentiates matMul with transposed-operand
 * matMuls, which the wasm backend runs several times slower than an explicit transpose followed by a
 * plain matMul; this layer dominates training time, so its backward pass uses the latter.
 */
function dense(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  activation: Activation | 'linear',
): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, wi, bi, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const pre = tf.add(tf.matMul(xi, wi), bi);
    const value = activate(pre, activation) as tf.Tensor2D;
    save([xi, wi, pre, value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sx, sw, sPre, sy] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const slope = activationSlope(sPre, sy, activation);
        const dPre = slope === undefined ? dy : (tf.mul(dy, slope) as tf.Tensor2D);
        return [tf.matMul(dPre, tf.transpose(sw)), tf.matMul(tf.transpose(sx), dPre), tf.sum(dPre, 0)];
      },
    };
  });
  return op(x, w, b) as tf.Tensor2D;
}

interface Layer {
  readonly w: tf.Variable;
  readonly b: tf.Variable;
  /** Constant connectivity mask (MADE), owned by the layer. */
  readonly mask: tf.Tensor2D | undefined;
}

/** Creates a trainable variable from `init`, releasing `init`. */
function toVariable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init, true);
  init.dispose();
  return v;
}

/** A dense MLP: activation after every layer but the last (linear output). */
export class Mlp {
  readonly sizes: readonly number[];
  readonly activation: Activation;
  private readonly layers: Layer[];

  constructor(config: MlpConfig, init: MlpInit, fail: Fail) {
    const { sizes } = config;
    if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
      fail(`MLP sizes must be ≥ 2 positive integers, got [${sizes.join(', ')}]`);
    }
    if (config.masks !== undefined && config.masks.length !== sizes.length - 1) {
      fail(`MLP needs ${sizes.length - 1} masks, got ${config.masks.length}`);
    }
    this.sizes = [...sizes];
    this.activation = config.activation;
    this.layers = [];
    try {
      this.build(config, init, fail);
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  private build(config: MlpConfig, init: MlpInit, fail: Fail): void {
    const { sizes } = config;
    for (let l = 0; l + 1 < sizes.length; l++) {
      const nIn = sizes[l]!;
      const nOut = sizes[l + 1]!;
      const m = config.masks?.[l];
      if (m !== undefined && m.length !== nIn * nOut) fail(`MLP mask ${l} must have ${nIn * nOut} entries`);
      const last = l + 2 === sizes.length;
      const [w, b] = this.initialWeights(init, l, nIn, nOut, last);
      this.layers.push({
        w: toVariable(w),
        b: toVariable(b),
        mask: m === undefined ? undefined : tf.keep(tf.tensor2d(m, [nIn, nOut])),
      });
    }
  }

  private initialWeights(
    init: MlpInit,
    l: number,
    nIn: number,
    nOut: number,
    last: boolean,
  ): [tf.Tensor, tf.Tensor] {
    if ('weights' in init) {
      const w = readWeight(init.weights, `${init.prefix}${l}.w`, [nIn, nOut]);
      try {
        return [w, readWeight(init.weights, `${init.prefix}${l}.b`, [nOut])];
      } catch (err) {
        w.dispose();
        throw err;
      }
    }
    const zero = last && init.zeroOutput === true;
    const w = zero ? tf.zeros([nIn, nOut]) : tf.tensor2d(glorotUniform(init.rng, nIn, nOut), [nIn, nOut]);
    return [w, tf.zeros([nOut])];
  }

  /** Input width. */
  get inputSize(): number {
    return this.sizes[0]!;
  }

  /** Output width. */
  get outputSize(): number {
    return this.sizes[this.sizes.length - 1]!;
  }

  /** `[batch, in]` → `[batch, out]`. Allocates intermediates: call inside `tf.tidy`. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h: tf.Tensor2D = x;
    this.layers.forEach((layer, l) => {
      const w = layer.mask === undefined ? layer.w : tf.mul(layer.w, layer.mask);
      const act = l + 1 < this.layers.length ? this.activation : 'linear';
      h = dense(h, w as tf.Tensor2D, layer.b as tf.Tensor1D, act);
    });
    return h;
  }

  /** The trainable weights and biases, layer by layer. */
  variables(): tf.Variable[] {
    return this.layers.flatMap((l) => [l.w, l.b]);
  }

  /** Weights as `<prefix><layer>.w` / `<prefix><layer>.b` entries (masks are derived from config, not saved). */
  encode(prefix: string): Record<string, SerializedTensor> {
    const out: Record<string, SerializedTensor> = {};
    this.layers.forEach((layer, l) => {
      out[`${prefix}${l}.w`] = encodeTensor(layer.w);
      out[`${prefix}${l}.b`] = encodeTensor(layer.b);
    });
    return out;
  }

  /** Frees variables and masks. */
  dispose(): void {
    for (const l of this.layers) {
      l.w.dispose();
      l.b.dispose();
      l.mask?.dispose();
    }
  }
}

/** Order in which a MADE network makes dimensions depend on each other. */
export const MADE_ORDERS = ['natural', 'reversed'] as const;
export type MadeOrder = (typeof MADE_ORDERS)[number];

/** Degree (1-based position in the autoregressive order) of input dimension `i`. */
export function inputDegrees(dim: number, order: MadeOrder): number[] {
  return Array.from({ length: dim }, (_, i) => (order === 'natural' ? i + 1 : dim - i));
}

/**
 * MADE connectivity masks (Germain et al. 2015) for an MLP `[dim, …hidden, outputsPerDim·dim]`.
 * Hidden unit k of every layer gets degree (k mod max(1, dim−1)) + 1; a connection into a hidden unit is
 * kept when its degree is ≥ the source's, into an output when strictly greater. Output column
 * `p·dim + i` belongs to input dimension i (block p), so output i depends only on dimensions earlier in
 * the order. With dim = 1 every output-layer mask entry is 0: the outputs are just the biases.
 */
export function madeMasks(
  dim: number,
  hidden: readonly number[],
  outputsPerDim: number,
  order: MadeOrder,
): Float32Array[] {
  const degIn = inputDegrees(dim, order);
  const span = Math.max(1, dim - 1);
  const degHidden = hidden.map((h) => Array.from({ length: h }, (_, k) => (k % span) + 1));
  const degOut = Array.from({ length: outputsPerDim * dim }, (_, j) => degIn[j % dim]!);
  const layers = [degIn, ...degHidden, degOut];
  const masks: Float32Array[] = [];
  for (let l = 0; l + 1 < layers.length; l++) {
    const src = layers[l]!;
    const dst = layers[l + 1]!;
    const strict = l + 2 === layers.length;
    const m = new Float32Array(src.length * dst.length);
    src.forEach((ds, i) => {
      dst.forEach((dd, k) => {
        m[i * dst.length + k] = (strict ? dd > ds : dd >= ds) ? 1 : 0;
      });
    });
    masks.push(m);
  }
  return masks;
}
