/**
 * Scoring of a few rows on the host, in plain JS: the fused forward pass (see `FusedModel.launchScore`)
 * from float64 copies of the weights. A tfjs call costs about a hundred kernel launches whatever the row
 * count, so for a handful of rows (one entity key's share of a micro-batch) this is several times
 * faster; it agrees with the kernels to float32 rounding.
 */
import { LOG_PROB_FLOOR } from '../normalizing-flow.js';
import { HALF_LOG_2PI } from '../priors/prior-common.js';
import type { ScoreKind } from '../types.js';
import type { ParamStore } from './param-store.js';
import type { FusedPlan } from './plan.js';

interface HostCoupling {
  readonly kind: 'coupling';
  readonly condIdx: readonly number[];
  readonly transIdx: readonly number[];
  /** Conditioner widths `[condSize, …hidden, 2k]`. */
  readonly sizes: readonly number[];
  /** Row-major `[sizes[l], sizes[l+1]]` weights and biases of each conditioner layer. */
  readonly w: readonly Float64Array[];
  readonly b: readonly Float64Array[];
  readonly relu: boolean;
  readonly clamp: number;
}

/** z = x·a + c. */
interface HostElementwise {
  readonly kind: 'elementwise';
  readonly a: Float64Array;
  readonly c: Float64Array;
}

interface HostPermute {
  readonly kind: 'permute';
  readonly perm: readonly number[];
}

/** Float64 copy of a fused flow's weights, for `hostScore`. */
export interface HostModel {
  readonly dim: number;
  readonly maxAbsInput: number;
  readonly layers: readonly (HostCoupling | HostElementwise | HostPermute)[];
  /** −(dim/2)·log 2π plus the elementwise layers' log-determinants. */
  readonly offset: number;
  /** Widest layer (scratch size). */
  readonly widest: number;
}

/** The host model of `plan` from `store.values` (call `store.sync()` first). */
export function hostModel(plan: FusedPlan, store: ParamStore): HostModel {
  const value = (i: number): Float64Array => Float64Array.from(store.slice(store.values, i));
  const d = plan.dim;
  let offset = -d * HALF_LOG_2PI;
  let widest = d;
  const layers = plan.layers.map((l): HostCoupling | HostElementwise | HostPermute => {
    if (l.kind === 'permute') return { kind: 'permute', perm: l.perm };
    if (l.kind === 'elementwise') {
      const shift = value(l.firstVar);
      const logScale = value(l.firstVar + 1);
      const a = logScale.map((v) => Math.exp(-v));
      offset -= logScale.reduce((acc, v) => acc + v, 0);
      return { kind: 'elementwise', a, c: shift.map((v, j) => -v * a[j]!) };
    }
    const nLayers = l.sizes.length - 1;
    widest = Math.max(widest, ...l.sizes);
    return {
      kind: 'coupling',
      condIdx: l.condIdx,
      transIdx: l.transIdx,
      sizes: l.sizes,
      w: Array.from({ length: nLayers }, (_, i) => value(l.firstVar + 2 * i)),
      b: Array.from({ length: nLayers }, (_, i) => value(l.firstVar + 2 * i + 1)),
      relu: l.activation === 'relu',
      clamp: l.clamp,
    };
  });
  return { dim: d, maxAbsInput: plan.maxAbsInput, layers, offset, widest };
}

/** The conditioner's raw output `[shift ‖ log-scale]` for row `z` (in one of the scratch buffers). */
function conditioner(l: HostCoupling, z: Float64Array, s0: Float64Array, s1: Float64Array): Float64Array {
  const { sizes } = l;
  let inp = s0;
  let out = s1;
  const cond = l.condIdx;
  if (cond.length === 0) inp[0] = 0;
  for (let j = 0; j < cond.length; j++) inp[j] = z[cond[j]!]!;
  const last = sizes.length - 1;
  for (let k = 0; k < last; k++) {
    const w = l.w[k]!;
    const bias = l.b[k]!;
    const rows = sizes[k]!;
    const cols = sizes[k + 1]!;
    for (let j = 0; j < cols; j++) out[j] = bias[j]!;
    for (let i = 0; i < rows; i++) {
      const v = inp[i]!;
      if (v === 0) continue;
      const o = i * cols;
      for (let j = 0; j < cols; j++) out[j]! += v * w[o + j]!;
    }
    if (k < last - 1) {
      if (l.relu) for (let j = 0; j < cols; j++) out[j] = Math.max(out[j]!, 0);
      else for (let j = 0; j < cols; j++) out[j] = Math.tanh(out[j]!);
    }
    const t = inp;
    inp = out;
    out = t;
  }
  return inp;
}

/**
 * log p of one row `z` (overwritten), in nats, before the floor; with `latent`, log p_prior(f(x)) (no
 * log-determinant).
 */
function scoreRow(
  m: HostModel,
  z: Float64Array,
  s0: Float64Array,
  s1: Float64Array,
  latent: boolean,
): number {
  const d = m.dim;
  let logDet = latent ? -d * HALF_LOG_2PI : m.offset;
  for (const l of m.layers) {
    if (l.kind === 'coupling') {
      const raw = conditioner(l, z, s0, s1);
      const k = l.transIdx.length;
      for (let j = 0; j < k; j++) {
        const col = l.transIdx[j]!;
        const ls = l.clamp * Math.tanh(raw[k + j]! / l.clamp);
        z[col] = z[col]! * Math.exp(ls) + raw[j]!;
        if (!latent) logDet += ls;
      }
    } else if (l.kind === 'elementwise') {
      for (let j = 0; j < d; j++) z[j] = z[j]! * l.a[j]! + l.c[j]!;
    } else {
      for (let j = 0; j < d; j++) s0[j] = z[j]!;
      for (let j = 0; j < d; j++) z[j] = s0[l.perm[j]!]!;
    }
  }
  let quad = 0;
  for (let j = 0; j < d; j++) quad += z[j]! * z[j]!;
  return logDet - 0.5 * quad;
}

/**
 * log p(x) per row of row-major `values` (`n` rows of `m.dim`). Rows that are non-finite or beyond
 * `maxAbsInput` get `LOG_PROB_FLOOR`, and scores are floored at it, as `FusedModel.score` does. With
 * `kind` `latent`, log p_prior(f(x)) instead (see `ScoreKind`).
 */
export function hostScore(
  m: HostModel,
  values: Float32Array,
  n: number,
  kind: ScoreKind = 'density',
): Float32Array {
  const latent = kind === 'latent';
  const d = m.dim;
  const s0 = new Float64Array(m.widest);
  const s1 = new Float64Array(m.widest);
  const z = new Float64Array(d);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let ok = true;
    for (let j = 0; j < d; j++) {
      const v = values[i * d + j]!;
      if (!(Math.abs(v) <= m.maxAbsInput)) ok = false;
      z[j] = v;
    }
    const lp = ok ? scoreRow(m, z, s0, s1, latent) : Number.NaN;
    out[i] = Number.isFinite(lp) ? Math.max(lp, LOG_PROB_FLOOR) : LOG_PROB_FLOOR;
  }
  return out;
}
