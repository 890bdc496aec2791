/**
 * The host engine (issue 14 item 2): scoring and the training step of a mixture-CDF flow
 * (`model.type: mixture-coupling`, `mixture-cdf`) in plain TypeScript, float64, with a hand-written
 * backward pass. With conditioners of a few units a tfjs call costs far more in per-kernel overhead than
 * the arithmetic; here a step is a few loops over typed arrays and makes no tensor at all.
 *
 * Same objective as `NormalizingFlow.nll`: the mean over all rows of log p floored at `LOG_PROB_FLOOR`;
 * rows that are non-finite or beyond `maxAbsInput` count with the floor and carry no gradient, as do
 * rows whose log p is below the floor. A valid row whose log p overflows (non-finite) makes the
 * gradient NaN, as 0·∞ does under autodiff, so the step is skipped.
 */
import { LOG_PROB_FLOOR, type NormalizingFlow } from '../normalizing-flow.js';
import { HALF_LOG_2PI } from '../priors/prior-common.js';
import * as tf from '../tf.js';
import type { ScoreKind } from '../types.js';
import { backward, foldLayers, forward, type HostWeights, type Workspace, workspace } from './host-layers.js';
import type { HostPlan } from './host-plan.js';
import type { GradientSource } from './host-step.js';
import { ParamStore } from './param-store.js';

/** log p_prior of one latent coordinate (the normal prior's normaliser is in the weights' offset). */
function priorTerm(kind: HostPlan['prior'], z: number): number {
  if (kind === 'normal') return -0.5 * z * z;
  const a = Math.abs(z);
  return -a - 2 * Math.log1p(Math.exp(-a));
}

/** d log p_prior / dz of one latent coordinate. */
function priorSlope(kind: HostPlan['prior'], z: number): number {
  return kind === 'normal' ? -z : -Math.tanh(0.5 * z);
}

/** A mixture-CDF flow on the host: float64 copies of its weights, refolded once per model version. */
export class HostFlow {
  readonly plan: HostPlan;
  readonly store: ParamStore;
  private weights: HostWeights | undefined;
  private ws: Workspace | undefined;
  private readonly grads: Float64Array;
  private readonly views: readonly Float64Array[];

  constructor(plan: HostPlan, flow: NormalizingFlow) {
    this.plan = plan;
    this.store = new ParamStore(flow.trainableVariables());
    this.grads = new Float64Array(this.store.size);
    this.views = this.store.vars.map((v, i) =>
      this.grads.subarray(this.store.offsets[i]!, this.store.offsets[i]! + v.size),
    );
  }

  /** Refolds when the variables changed since the last fold. */
  refresh(): void {
    if (this.store.sync() || this.weights === undefined) this.refold();
  }

  /** Refolds from `store.values` (call after the store was committed). */
  refold(): void {
    this.weights = foldLayers(this.plan, this.store);
  }

  /**
   * log p(x) per row of row-major `values` (`n` rows), floored like `NormalizingFlow.logProb`; with `kind`
   * `latent`, log p_prior(f(x)) (the marginal and coupling log-determinants left out).
   */
  scoreHost(values: Float32Array, n: number, kind: ScoreKind = 'density'): Float32Array {
    const { w, ws, valid, rows } = this.load(values, n);
    forward(w, ws, this.plan.dim, rows, false);
    const d = this.plan.dim;
    const out = new Float32Array(n).fill(LOG_PROB_FLOOR);
    // The normal prior's normaliser is in the weights' offset, so `latent` adds it back alone.
    const priorConst = this.plan.prior === 'normal' ? -d * HALF_LOG_2PI : 0;
    for (let r = 0; r < rows; r++) {
      let lp = kind === 'latent' ? priorConst : ws.logDet[r]!;
      for (let j = 0; j < d; j++) lp += priorTerm(this.plan.prior, ws.h[r * d + j]!);
      if (Number.isFinite(lp)) out[valid[r]!] = Math.max(lp, LOG_PROB_FLOOR);
    }
    return out;
  }

  /** `scoreHost` (the host engine has no kernel path). */
  score(values: Float32Array, n: number, kind: ScoreKind = 'density'): Promise<Float32Array> {
    return Promise.resolve(this.scoreHost(values, n, kind));
  }

  /** `[loss, gradients in the store's layout]` of the mean NLL of the `n` rows of `values`. */
  lossAndGradients(values: Float32Array, n: number): Float32Array {
    const { w, ws, rows } = this.load(values, n);
    const d = this.plan.dim;
    forward(w, ws, d, rows, true);
    let sum = (n - rows) * LOG_PROB_FLOOR;
    let overflow = false;
    for (let r = 0; r < rows; r++) {
      let lp = ws.logDet[r]!;
      for (let j = 0; j < d; j++) lp += priorTerm(this.plan.prior, ws.h[r * d + j]!);
      const ok = Number.isFinite(lp) && lp >= LOG_PROB_FLOOR;
      if (!Number.isFinite(lp)) overflow = true;
      sum += ok ? lp : LOG_PROB_FLOOR;
      // d(−mean lp)/d lp = −1/n for rows above the floor.
      const coef = ok ? -1 / n : 0;
      ws.gdet[r] = coef;
      for (let j = r * d; j < (r + 1) * d; j++)
        ws.h[j] = ok ? coef * priorSlope(this.plan.prior, ws.h[j]!) : 0;
    }
    this.grads.fill(0);
    backward(w, ws, d, rows, (i) => this.views[i]!);
    const out = new Float32Array(1 + this.store.size);
    out[0] = -sum / n;
    out.set(this.grads, 1);
    if (overflow && out.length > 1) out[1] = Number.NaN;
    return out;
  }

  dispose(): void {
    this.weights = undefined;
    this.ws = undefined;
  }

  /** Refreshed weights, a workspace for `n` rows, and the valid rows copied into it (original indices). */
  private load(
    values: Float32Array,
    n: number,
  ): { w: HostWeights; ws: Workspace; valid: Int32Array; rows: number } {
    this.refresh();
    const w = this.weights!;
    const d = this.plan.dim;
    if (this.ws === undefined || this.ws.capacity < n) {
      this.ws = workspace(w, d, Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, n)))));
    }
    const ws = this.ws;
    const valid = new Int32Array(n);
    let rows = 0;
    for (let i = 0; i < n; i++) {
      let ok = true;
      for (let j = i * d; j < (i + 1) * d; j++)
        if (!(Math.abs(values[j]!) <= this.plan.maxAbsInput)) ok = false;
      if (!ok) continue;
      for (let j = 0; j < d; j++) ws.h[rows * d + j] = values[i * d + j]!;
      valid[rows++] = i;
    }
    return { w, ws, valid, rows };
  }
}

/** The host engine's gradient source: no tensors on `host`; `launch` reads the batch back for callers with a tensor. */
export function hostGradients(model: HostFlow): GradientSource {
  return {
    launch: (x) => {
      const [n] = x.shape;
      return tf.tensor1d(model.lossAndGradients(x.dataSync() as Float32Array, n));
    },
    host: (values, n) => model.lossAndGradients(values, n),
    paramsChanged: () => model.refold(),
    dispose: () => model.dispose(),
  };
}
