import { LOG_PROB_FLOOR, type NormalizingFlow } from '../normalizing-flow.js';
import { HALF_LOG_2PI } from '../priors/prior-common.js';
import * as tf from '../tf.js';
import type { ScoreKind } from '../types.js';
import { type HostModel, hostModel, hostScore } from './host-score.js';
import { ParamStore, uploadable } from './param-store.js';
import {
  type CouplingPlan,
  cleanRows,
  type FusedPlan,
  foldInput,
  foldOutput,
  type LayerPlan,
  transposed,
  transposeInto,
} from './plan.js';
import { rawScore } from './raw-score.js';

/** Folded weights of one coupling: `w[0]` is full-width `[dim, h1]`; `wT` are the transposes. */
export interface CouplingWeights {
  readonly plan: CouplingPlan;
  readonly w: tf.Tensor2D[];
  readonly b: tf.Tensor1D[];
  readonly wT: tf.Tensor2D[];
  readonly wt: tf.Tensor2D;
  readonly ws: tf.Tensor2D;
  readonly bt: tf.Tensor1D;
  readonly bs: tf.Tensor1D;
  /** `[2·dim, hL]`: transposed shift weights stacked over transposed scaled log-scale weights. */
  readonly woutT: tf.Tensor2D;
}

/** z = x·a + b with a = e^(−logScale), b = −shift·a; `logDet` = −Σ logScale. */
export interface ElementwiseWeights {
  readonly plan: { readonly kind: 'elementwise'; readonly firstVar: number };
  readonly a: tf.Tensor1D;
  readonly b: tf.Tensor1D;
  readonly logDet: number;
}

/** A permutation as a 0/1 matrix and its transpose (constants). */
export interface PermuteWeights {
  readonly plan: { readonly kind: 'permute'; readonly perm: readonly number[] };
  readonly p: tf.Tensor2D;
  readonly pT: tf.Tensor2D;
}

export type LayerWeights = CouplingWeights | ElementwiseWeights | PermuteWeights;

/** Applies a conditioner hidden layer: fused matmul + bias (+ relu); tanh after a linear fused matmul. */
export function hiddenLayer(
  h: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  act: 'relu' | 'tanh',
): tf.Tensor2D {
  if (act === 'relu') return tf.fused.matMul({ a: h, b: w, bias: b, activation: 'relu' }) as tf.Tensor2D;
  return tf.tanh(tf.fused.matMul({ a: h, b: w, bias: b })) as tf.Tensor2D;
}

/**
 * A supported flow's weights folded for the fused engine: conditioner inputs and outputs widened to the
 * full dimension (so no split/merge kernels), the clamp folded into the log-scale weights, ActNorm as
 * x·a + b. Refolded once per model version: when the flow's variables got new values (tracked by
 * `ParamStore`), or after the fused trainer committed an update (`refold`). Scoring checks input validity
 * and floors results on the JS side.
 */
export class FusedModel {
  readonly plan: FusedPlan;
  readonly store: ParamStore;
  private weights: LayerWeights[] = [];
  private constants: tf.Tensor[] = [];
  /** Permutation matrices by layer index: they do not depend on the parameters, so built once. */
  private readonly permutes = new Map<number, PermuteWeights>();
  /** −(dim/2)·log 2π plus the elementwise layers' log-determinants. */
  private offset = 0;
  /** Float64 weights for `scoreHost`, built on first use after each fold. */
  private host: HostModel | undefined;
  private readonly buffers = new FoldBuffers();

  constructor(plan: FusedPlan, flow: NormalizingFlow) {
    this.plan = plan;
    this.store = new ParamStore(flow.trainableVariables());
  }

  /** Current folded weights (after `refresh`). */
  get layers(): readonly LayerWeights[] {
    return this.weights;
  }

  /** log p constant: prior normaliser plus elementwise log-determinants. */
  get logProbOffset(): number {
    return this.offset;
  }

  /** Refolds when the variables changed since the last fold. */
  refresh(): void {
    if (this.store.sync() || this.weights.length === 0) this.refold();
  }

  /** Refolds from `store.values` (call after the store was committed). */
  refold(): void {
    this.disposeWeights();
    this.host = undefined;
    const d = this.plan.dim;
    this.offset = -d * HALF_LOG_2PI;
    this.buffers.start();
    this.weights = this.plan.layers.map((l, i) => this.foldLayer(l, i, d));
  }

  /**
   * log p(x) per row (floored like `NormalizingFlow.logProb`), from row-major `values` of `n` rows; with
   * `kind` `latent`, log p_prior(f(x)) (the couplings' and elementwise layers' log-determinants left out).
   */
  async score(values: Float32Array, n: number, kind: ScoreKind = 'density'): Promise<Float32Array> {
    const { clean, valid } = cleanRows(values, n, this.plan.dim, this.plan.maxAbsInput);
    const raw = this.rawScore(clean, n, kind);
    if (raw !== undefined) return this.floor(raw, valid);
    const lp = this.launchScore(clean, n, kind);
    try {
      return this.floor((await lp.data()) as Float32Array, valid);
    } finally {
      lp.dispose();
    }
  }

  /** Synchronous `score`. */
  scoreSync(values: Float32Array, n: number, kind: ScoreKind = 'density'): Float32Array {
    const { clean, valid } = cleanRows(values, n, this.plan.dim, this.plan.maxAbsInput);
    const raw = this.rawScore(clean, n, kind);
    if (raw !== undefined) return this.floor(raw, valid);
    const lp = this.launchScore(clean, n, kind);
    try {
      return this.floor(lp.dataSync() as Float32Array, valid);
    } finally {
      lp.dispose();
    }
  }

  /** `score` computed on the host in JS (see `hostScore`): faster than the kernels for a few rows. */
  scoreHost(values: Float32Array, n: number, kind: ScoreKind = 'density'): Float32Array {
    this.refresh();
    this.host ??= hostModel(this.plan, this.store);
    return hostScore(this.host, values, n, kind);
  }

  dispose(): void {
    this.disposeWeights();
    for (const p of this.permutes.values()) tf.dispose([p.p, p.pT]);
    this.permutes.clear();
  }

  /** `launchScore`'s kernels called on the wasm backend directly (raw-score.ts); undefined elsewhere. */
  private rawScore(clean: Float32Array, n: number, kind: ScoreKind): Float32Array | undefined {
    this.refresh();
    const latent = kind === 'latent';
    return rawScore(this.weights, clean, n, this.plan.dim, this.scoreOffset(kind), latent);
  }

  /** The log p constant of `kind`: the normal prior's normaliser alone for `latent`. */
  private scoreOffset(kind: ScoreKind): number {
    return kind === 'latent' ? -this.plan.dim * HALF_LOG_2PI : this.offset;
  }

  private launchScore(clean: Float32Array, n: number, kind: ScoreKind = 'density'): tf.Tensor1D {
    this.refresh();
    const latent = kind === 'latent';
    const offset = this.scoreOffset(kind);
    return tf.tidy(() => {
      let h = tf.tensor2d(clean, [n, this.plan.dim]);
      let s: tf.Tensor2D | undefined;
      for (const l of this.weights) {
        if (l.plan.kind === 'coupling') {
          const c = l as CouplingWeights;
          let a = h;
          c.w.forEach((w, i) => {
            a = hiddenLayer(a, w, c.b[i]!, c.plan.activation);
          });
          const t = tf.fused.matMul({ a, b: c.wt, bias: c.bt });
          const ls = tf.mul(
            tf.tanh(tf.fused.matMul({ a, b: c.ws, bias: c.bs })),
            c.plan.clamp,
          ) as tf.Tensor2D;
          h = tf.add(tf.mul(h, tf.exp(ls)), t) as tf.Tensor2D;
          if (!latent) s = s === undefined ? ls : (tf.add(s, ls) as tf.Tensor2D);
        } else if (l.plan.kind === 'elementwise') {
          const e = l as ElementwiseWeights;
          h = tf.add(tf.mul(h, e.a), e.b) as tf.Tensor2D;
        } else {
          h = tf.matMul(h, (l as PermuteWeights).p);
        }
      }
      const quad = tf.mul(tf.square(h), -0.5);
      return tf.add(tf.sum(s === undefined ? quad : tf.add(s, quad), 1), offset) as tf.Tensor1D;
    });
  }

  private floor(raw: Float32Array, valid: Uint8Array): Float32Array {
    const out = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i]!;
      out[i] = valid[i] === 1 && Number.isFinite(v) ? Math.max(v, LOG_PROB_FLOOR) : LOG_PROB_FLOOR;
    }
    return out;
  }

  private foldLayer(l: LayerPlan, index: number, d: number): LayerWeights {
    const { store } = this;
    const value = (i: number): Float32Array => store.slice(store.values, i);
    const keep = <T extends tf.Tensor>(t: T): T => {
      this.constants.push(t);
      return t;
    };
    if (l.kind === 'permute') {
      let cached = this.permutes.get(index);
      if (cached === undefined) {
        const m = new Float32Array(d * d);
        for (const [j, p] of l.perm.entries()) m[p * d + j] = 1;
        cached = { plan: l, p: tf.tensor2d(m, [d, d]), pT: tf.tensor2d(transposed(m, d, d), [d, d]) };
        this.permutes.set(index, cached);
      }
      return cached;
    }
    if (l.kind === 'elementwise') {
      const shift = value(l.firstVar);
      const logScale = value(l.firstVar + 1);
      const a = logScale.map((v) => Math.exp(-v));
      const b = shift.map((v, j) => -v * a[j]!);
      const logDet = -logScale.reduce((acc, v) => acc + v, 0);
      this.offset += logDet;
      return { plan: l, a: keep(tf.tensor1d(a)), b: keep(tf.tensor1d(b)), logDet };
    }
    return this.foldCoupling(l, d, value, keep);
  }

  private foldCoupling(
    l: CouplingPlan,
    d: number,
    value: (i: number) => Float32Array,
    keep: <T extends tf.Tensor>(t: T) => T,
  ): CouplingWeights {
    const sizes = [d, ...l.sizes.slice(1)];
    const nHidden = sizes.length - 2;
    const w: tf.Tensor2D[] = [];
    const wT: tf.Tensor2D[] = [];
    const b: tf.Tensor1D[] = [];
    const zeros = (n: number): Float32Array => this.buffers.take(n);
    for (let i = 0; i < nHidden; i++) {
      const raw = value(l.firstVar + 2 * i);
      const [r, c] = [sizes[i]!, sizes[i + 1]!];
      const wi = i === 0 ? foldInput(l, d, raw, zeros(r * c)) : raw;
      // The first layer is a fold of its own; the others alias the store (updated in place), so they are
      // copied unless the backend copies at upload.
      w.push(keep(tf.tensor2d(i === 0 ? wi : uploadable(wi), [r, c])));
      wT.push(keep(tf.tensor2d(transposed(wi, r, c, zeros(r * c)), [c, r])));
      b.push(keep(tf.tensor1d(uploadable(value(l.firstVar + 2 * i + 1)))));
    }
    const hL = sizes[nHidden]!;
    const last = l.firstVar + 2 * nHidden;
    const out = foldOutput(l, d, value(last), value(last + 1), zeros);
    const stacked = zeros(2 * d * hL);
    transposeInto(out.wt, hL, d, stacked, 0);
    transposeInto(out.ws, hL, d, stacked, d * hL);
    return {
      plan: l,
      w,
      b,
      wT,
      wt: keep(tf.tensor2d(out.wt, [hL, d])),
      ws: keep(tf.tensor2d(out.ws, [hL, d])),
      bt: keep(tf.tensor1d(out.bt)),
      bs: keep(tf.tensor1d(out.bs)),
      woutT: keep(tf.tensor2d(stacked, [2 * d, hL])),
    };
  }

  private disposeWeights(): void {
    for (const t of this.constants) t.dispose();
    this.constants = [];
    this.weights = [];
  }
}

/**
 * Arrays for one fold, reused by the next where the backend copies at upload (wasm; see `uploadable`):
 * allocating them (about 60 arrays, up to 16 KB, per 6×64 fold) cost as much as filling them. Elsewhere
 * the tensors keep the arrays, so each fold gets new ones.
 */
class FoldBuffers {
  private readonly pool: Float32Array[] = [];
  private next = 0;
  private reuse = false;

  /** Starts a fold: requests come in the same order and sizes as the previous fold's. */
  start(): void {
    this.next = 0;
    this.reuse = tf.getBackend() === 'wasm';
  }

  /** `n` zeros. */
  take(n: number): Float32Array {
    if (!this.reuse) return new Float32Array(n);
    let a = this.pool[this.next];
    if (a?.length === n) a.fill(0);
    else {
      a = new Float32Array(n);
      this.pool[this.next] = a;
    }
    this.next++;
    return a;
  }
}
