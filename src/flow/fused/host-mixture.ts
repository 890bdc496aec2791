/**
 * The mixture-CDF layer (`MixtureCdf`, logit output) on the host, float64, batch-wise: per element x of
 * column j, with t_k = (x − μ_k)·e^(−σ_k) over the K components,
 *   log z = LSE_k(log π_k + log Φ(t_k)),  log(1 − z) = LSE_k(log π_k + log Φ(−t_k)),
 *   log p = LSE_k(log π_k − σ_k − t_k²/2 − ½ log 2π),
 *   y = log z − log(1 − z),  log|dy/dx| = log p − log z − log(1 − z),
 * and the hand-written backward pass of the same expressions. Logistic components (`plan.family`) have
 * log σ(±t_k) for log Φ(±t_k) and log σ(t_k) + log σ(−t_k) − σ_k for the Gaussian log-density
 * (host-mixture-logistic.ts).
 */
import { HALF_LOG_2PI } from '../priors/prior-common.js';
import { MAX_ABS_LOG_SCALE } from '../transforms/mixture-cdf.js';
import { linearElement, logSpaceElement } from './host-mixture-element.js';
import { logisticElement } from './host-mixture-logistic.js';
import type { MixtureSaved, MixtureWeights } from './host-mixture-types.js';
import type { MixturePlan } from './host-plan.js';

export type { MixtureSaved, MixtureWeights } from './host-mixture-types.js';

/** Buffers for `rows` rows. */
export function mixtureSaved(w: MixtureWeights, rows: number): MixtureSaved {
  const size = rows * w.dim * w.plan.components;
  const make = (): Float64Array => new Float64Array(size);
  return { t: make(), rZ: make(), rS: make(), rD: make(), cZ: make(), cS: make() };
}

/** The layer's parameters from the float32 variable values (log-weights by a stable log-softmax). */
export function foldMixture(
  plan: MixturePlan,
  dim: number,
  logits: Float32Array,
  means: Float32Array,
  logScales: Float32Array,
): MixtureWeights {
  const k = plan.components;
  const logW = new Float64Array(dim * k);
  for (let j = 0; j < dim; j++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) max = Math.max(max, logits[j * k + c]!);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(logits[j * k + c]! - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < k; c++) logW[j * k + c] = logits[j * k + c]! - lse;
  }
  const ls = Float64Array.from(logScales, (v) =>
    Math.min(MAX_ABS_LOG_SCALE, Math.max(-MAX_ABS_LOG_SCALE, v)),
  );
  const live = Uint8Array.from(logScales, (v) => (Math.abs(v) <= MAX_ABS_LOG_SCALE ? 1 : 0));
  return {
    plan,
    dim,
    logW,
    pi: logW.map(Math.exp),
    dens: logW.map((v, q) => Math.exp(v - ls[q]! - (plan.family === 'logistic' ? 0 : HALF_LOG_2PI))),
    mu: Float64Array.from(means),
    ls,
    inv: ls.map((v) => Math.exp(-v)),
    live,
  };
}

/** Scratch of `mixtureForward`: 4K per-component values, or 3K log terms and 6 for the log Φ pair (+3 logistic). */
export function mixtureScratch(k: number): Float64Array {
  return new Float64Array(4 * k + 8);
}

/**
 * Maps `h` (`rows × dim`, in place) to y and adds each row's log-determinant to `logDet`; fills `saved`
 * when given (training). Each element takes the linear-space path, or the log-space one in the far tails.
 */
export function mixtureForward(
  w: MixtureWeights,
  h: Float64Array,
  rows: number,
  logDet: Float64Array,
  scratch: Float64Array,
  saved?: MixtureSaved,
): void {
  const d = w.dim;
  const k = w.plan.components;
  const out = scratch.subarray(scratch.length - 2);
  const sc = scratch.subarray(0, scratch.length - 2);
  const logistic = w.plan.family === 'logistic';
  for (let i = 0; i < rows; i++) {
    let det = 0;
    for (let j = 0; j < d; j++) {
      const x = h[i * d + j]!;
      const at = (i * d + j) * k;
      if (logistic) logisticElement(w, j * k, x, out, sc, saved, at);
      else if (!linearElement(w, j * k, x, out, sc, saved, at)) {
        logSpaceElement(w, j * k, x, out, sc, saved, at);
      }
      h[i * d + j] = out[0]!;
      det += out[1]!;
    }
    logDet[i] = logDet[i]! + det;
  }
}

/** Gradient buffers of one mixture layer, `[dim, K]` each, laid out like its variables. */
export interface MixtureGrads {
  readonly logits: Float64Array;
  readonly means: Float64Array;
  readonly logScales: Float64Array;
}

/**
 * Adds the layer's parameter gradients to `g` from dL/dy (`gy`, replaced in place by dL/dx) and dL/dlogDet
 * per row (`gdet`).
 */
export function mixtureBackward(
  w: MixtureWeights,
  s: MixtureSaved,
  rows: number,
  gy: Float64Array,
  gdet: Float64Array,
  g: MixtureGrads,
): void {
  const d = w.dim;
  const k = w.plan.components;
  const logistic = w.plan.family === 'logistic';
  // dL/dlog π accumulates into g.logits and is turned into dL/dlogits at the end.
  for (let i = 0; i < rows; i++) {
    const gd = gdet[i]!;
    for (let j = 0; j < d; j++) {
      const e = i * d + j;
      const gZ = gy[e]! - gd;
      const gS = -gy[e]! - gd;
      let gx = 0;
      for (let c = 0; c < k; c++) {
        const at = e * k + c;
        const p = j * k + c;
        const t = s.t[at]!;
        const rD = s.rD[at]!;
        // d/dt of the component's log-density in t: −t (Gaussian), σ(−t) − σ(t) = −tanh(t/2) (logistic).
        const densSlope = logistic ? -Math.tanh(0.5 * t) : -t;
        const gt = gZ * s.cZ[at]! + gS * s.cS[at]! + gd * rD * densSlope;
        g.logits[p] = g.logits[p]! + gZ * s.rZ[at]! + gS * s.rS[at]! + gd * rD;
        g.logScales[p] = g.logScales[p]! - gd * rD - gt * t;
        g.means[p] = g.means[p]! - gt * w.inv[p]!;
        gx += gt * w.inv[p]!;
      }
      gy[e] = gx;
    }
  }
  for (let j = 0; j < d; j++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += g.logits[j * k + c]!;
    for (let c = 0; c < k; c++) {
      const p = j * k + c;
      g.logits[p] = g.logits[p]! - w.pi[p]! * sum;
      if (w.live[p] === 0) g.logScales[p] = 0;
    }
  }
}
