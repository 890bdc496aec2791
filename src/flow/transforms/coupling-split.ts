import * as tf from '../tf.js';

/**
 * The binary mask of a coupling layer: which dimensions condition (pass through unchanged) and which are
 * transformed. Dimension i conditions when i mod 2 = parity, so consecutive layers with parities 0, 1, …
 * alternate roles.
 *
 * dim = 1: there is nothing to condition on, so the single dimension is always transformed and the
 * conditioner sees a constant zero input of width 1. The layer then degrades to an elementwise transform
 * whose parameters are the conditioner's output biases (for an affine coupling: x·e^s + t with learned
 * constants s, t).
 *
 * Splitting and merging use 0/1 selection matrices (matMul) rather than `tf.gather`, which has no
 * gradient kernel on wasm. Each output entry is one input times 1 plus zeros, so both are exact.
 */
export class CouplingSplit {
  readonly dim: number;
  readonly condIdx: readonly number[];
  readonly transIdx: readonly number[];
  /** `[dim, |cond|]` selection; undefined when dim = 1. */
  private readonly selectCond: tf.Tensor2D | undefined;
  /** `[dim, |trans|]` selection. */
  private readonly selectTrans: tf.Tensor2D;
  /** `[|trans|, dim]` scatter back. */
  private readonly scatterTrans: tf.Tensor2D;
  /** `[1, dim]`: 1 on conditioning dimensions. */
  private readonly keepCond: tf.Tensor2D;

  constructor(dim: number, parity: 0 | 1) {
    this.dim = dim;
    const all = Array.from({ length: dim }, (_, i) => i);
    this.condIdx = dim === 1 ? [] : all.filter((i) => i % 2 === parity);
    this.transIdx = dim === 1 ? [0] : all.filter((i) => i % 2 !== parity);
    this.selectCond = this.condIdx.length === 0 ? undefined : tf.keep(selection(dim, this.condIdx));
    this.selectTrans = tf.keep(selection(dim, this.transIdx));
    this.scatterTrans = tf.keep(tf.transpose(this.selectTrans));
    const keep = all.map((i) => (this.condIdx.includes(i) ? 1 : 0));
    this.keepCond = tf.keep(tf.tensor2d(keep, [1, dim]));
  }

  /** Conditioner input width (1 when dim = 1: a constant zero column). */
  get condSize(): number {
    return Math.max(1, this.condIdx.length);
  }

  /** Number of transformed dimensions. */
  get transSize(): number {
    return this.transIdx.length;
  }

  /** `[batch, dim]` → conditioning part `[batch, condSize]` and transformed part `[batch, transSize]`. */
  split(x: tf.Tensor2D): { cond: tf.Tensor2D; trans: tf.Tensor2D } {
    const n = x.shape[0];
    const cond = this.selectCond === undefined ? tf.zeros([n, 1]) : tf.matMul(x, this.selectCond);
    return { cond: cond as tf.Tensor2D, trans: tf.matMul(x, this.selectTrans) };
  }

  /** Reassembles `[batch, dim]` from the original input (conditioning dims) and new transformed values. */
  merge(x: tf.Tensor2D, trans: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.mul(x, this.keepCond), tf.matMul(trans, this.scatterTrans)) as tf.Tensor2D;
  }

  /** Frees the constant matrices. */
  dispose(): void {
    this.selectCond?.dispose();
    this.selectTrans.dispose();
    this.scatterTrans.dispose();
    this.keepCond.dispose();
  }
}

function selection(dim: number, idx: readonly number[]): tf.Tensor2D {
  const m = new Float32Array(dim * idx.length);
  idx.forEach((d, j) => {
    m[d * idx.length + j] = 1;
  });
  return tf.tensor2d(m, [dim, idx.length]);
}
