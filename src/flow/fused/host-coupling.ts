/**
 * Affine coupling, permutation and elementwise affine layers on the host, float64, batch-wise, with their
 * hand-written backward passes (the same math as the tfjs tape-free step in fused-step.ts, unfolded:
 * the conditioner sees only the conditioning columns).
 */
import type { CouplingPlan } from './plan.js';

/** A coupling's conditioner weights, row-major `[sizes[l], sizes[l+1]]`, and biases. */
export interface HostCouplingWeights {
  readonly plan: CouplingPlan;
  readonly w: readonly Float64Array[];
  readonly b: readonly Float64Array[];
}

/** Forward activations: `acts[0]` the conditioner input, then every layer's output (the last is raw). */
export interface CouplingSaved {
  readonly acts: readonly Float64Array[];
  /** tanh(raw_s / c), e^s and the transformed columns' inputs, `[rows, k]` each. */
  readonly th: Float64Array;
  readonly es: Float64Array;
  readonly xt: Float64Array;
}

/** Buffers for `rows` rows. */
export function couplingSaved(c: HostCouplingWeights, rows: number): CouplingSaved {
  const k = c.plan.transIdx.length;
  return {
    acts: c.plan.sizes.map((s) => new Float64Array(rows * s)),
    th: new Float64Array(rows * k),
    es: new Float64Array(rows * k),
    xt: new Float64Array(rows * k),
  };
}

/** out = inp·W + b for `rows` rows (`inp` `[rows, m]`, W `[m, q]`). */
function affine(
  inp: Float64Array,
  rows: number,
  m: number,
  w: Float64Array,
  b: Float64Array,
  out: Float64Array,
): void {
  const q = b.length;
  for (let i = 0; i < rows; i++) {
    const o = i * q;
    for (let j = 0; j < q; j++) out[o + j] = b[j]!;
    for (let r = 0; r < m; r++) {
      const v = inp[i * m + r]!;
      if (v === 0) continue;
      const wr = r * q;
      for (let j = 0; j < q; j++) out[o + j] = out[o + j]! + v * w[wr + j]!;
    }
  }
}

/** Runs the conditioner on `h`'s conditioning columns; the raw output lands in the last `acts` buffer. */
function conditioner(
  c: HostCouplingWeights,
  h: Float64Array,
  d: number,
  rows: number,
  s: CouplingSaved,
): void {
  const { condIdx, sizes, activation } = c.plan;
  const a0 = s.acts[0]!;
  const m = sizes[0]!;
  for (let i = 0; i < rows; i++) {
    if (condIdx.length === 0) a0[i] = 0;
    for (let r = 0; r < condIdx.length; r++) a0[i * m + r] = h[i * d + condIdx[r]!]!;
  }
  const last = sizes.length - 1;
  for (let l = 0; l < last; l++) {
    const out = s.acts[l + 1]!;
    affine(s.acts[l]!, rows, sizes[l]!, c.w[l]!, c.b[l]!, out);
    if (l === last - 1) break;
    const size = rows * sizes[l + 1]!;
    if (activation === 'relu') for (let e = 0; e < size; e++) out[e] = Math.max(out[e]!, 0);
    else for (let e = 0; e < size; e++) out[e] = Math.tanh(out[e]!);
  }
}

/** z_t = x_t·e^s + t on the transformed columns of `h` (in place); adds Σ s per row to `logDet`. */
export function couplingForward(
  c: HostCouplingWeights,
  h: Float64Array,
  d: number,
  rows: number,
  logDet: Float64Array,
  s: CouplingSaved,
): void {
  conditioner(c, h, d, rows, s);
  const { transIdx, clamp } = c.plan;
  const k = transIdx.length;
  const raw = s.acts[s.acts.length - 1]!;
  for (let i = 0; i < rows; i++) {
    let det = 0;
    for (let j = 0; j < k; j++) {
      const th = Math.tanh(raw[i * 2 * k + k + j]! / clamp);
      const ls = clamp * th;
      const es = Math.exp(ls);
      const at = i * d + transIdx[j]!;
      s.th[i * k + j] = th;
      s.es[i * k + j] = es;
      s.xt[i * k + j] = h[at]!;
      h[at] = h[at]! * es + raw[i * 2 * k + j]!;
      det += ls;
    }
    logDet[i] = logDet[i]! + det;
  }
}

/** Adds gW += inpᵀ·dOut and gb += Σ_rows dOut; writes dInp = dOut·Wᵀ when `dInp` is given. */
function affineBackward(
  inp: Float64Array,
  dOut: Float64Array,
  rows: number,
  m: number,
  w: Float64Array,
  gW: Float64Array,
  gb: Float64Array,
  dInp: Float64Array | undefined,
): void {
  const q = gb.length;
  for (let i = 0; i < rows; i++) {
    const o = i * q;
    for (let j = 0; j < q; j++) gb[j] = gb[j]! + dOut[o + j]!;
    for (let r = 0; r < m; r++) {
      const v = inp[i * m + r]!;
      const wr = r * q;
      let acc = 0;
      for (let j = 0; j < q; j++) {
        const g = dOut[o + j]!;
        gW[wr + j] = gW[wr + j]! + v * g;
        acc += g * w[wr + j]!;
      }
      if (dInp !== undefined) dInp[i * m + r] = acc;
    }
  }
}

/**
 * Adds the conditioner's gradients to `gW`/`gb` from dL/dz (`gz`, replaced in place by dL/dx) and
 * dL/dlogDet per row. `scratch` holds ≥ rows × (widest layer) values, twice.
 */
export function couplingBackward(
  c: HostCouplingWeights,
  s: CouplingSaved,
  d: number,
  rows: number,
  gz: Float64Array,
  gdet: Float64Array,
  grads: { readonly w: readonly Float64Array[]; readonly b: readonly Float64Array[] },
  scratch: readonly [Float64Array, Float64Array],
): void {
  const { transIdx, condIdx, sizes, activation } = c.plan;
  const k = transIdx.length;
  let dOut = scratch[0];
  let dIn = scratch[1];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < k; j++) {
      const at = i * d + transIdx[j]!;
      const e = i * k + j;
      const g = gz[at]!;
      const th = s.th[e]!;
      // s = c·tanh(raw / c): ds/draw = 1 − th²; dL/ds = gz·x·e^s + gdet.
      const gs = g * s.xt[e]! * s.es[e]! + gdet[i]!;
      dOut[i * 2 * k + j] = g;
      dOut[i * 2 * k + k + j] = gs * (1 - th * th);
      gz[at] = g * s.es[e]!;
    }
  }
  for (let l = sizes.length - 2; l >= 0; l--) {
    const wantInput = l > 0 || condIdx.length > 0;
    affineBackward(
      s.acts[l]!,
      dOut,
      rows,
      sizes[l]!,
      c.w[l]!,
      grads.w[l]!,
      grads.b[l]!,
      wantInput ? dIn : undefined,
    );
    if (l === 0) break;
    const y = s.acts[l]!;
    const size = rows * sizes[l]!;
    if (activation === 'relu') for (let e = 0; e < size; e++) dIn[e] = y[e]! > 0 ? dIn[e]! : 0;
    else for (let e = 0; e < size; e++) dIn[e] = dIn[e]! * (1 - y[e]! * y[e]!);
    [dOut, dIn] = [dIn, dOut];
  }
  const m = sizes[0]!;
  for (let i = 0; i < rows; i++) {
    for (let r = 0; r < condIdx.length; r++)
      gz[i * d + condIdx[r]!] = gz[i * d + condIdx[r]!]! + dIn[i * m + r]!;
  }
}

/** z[:, j] = x[:, perm[j]] in place (`row` ≥ d scratch). */
export function permuteForward(
  perm: readonly number[],
  h: Float64Array,
  d: number,
  rows: number,
  row: Float64Array,
): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < d; j++) row[j] = h[i * d + j]!;
    for (let j = 0; j < d; j++) h[i * d + j] = row[perm[j]!]!;
  }
}

/** dL/dx[:, perm[j]] = dL/dz[:, j] in place. */
export function permuteBackward(
  perm: readonly number[],
  g: Float64Array,
  d: number,
  rows: number,
  row: Float64Array,
): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < d; j++) row[perm[j]!] = g[i * d + j]!;
    for (let j = 0; j < d; j++) g[i * d + j] = row[j]!;
  }
}
