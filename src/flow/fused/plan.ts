/**
 * The fused engine's view of a flow: which transforms it supports, and how their weights fold into
 * full-width matrices (host arrays) and how gradients of the folded weights unfold to the variables.
 * Pure JS, no tensors.
 */
import type { NormalizingFlow } from '../normalizing-flow.js';
import { StandardNormal } from '../priors/standard-normal.js';
import { ActNorm } from '../transforms/actnorm.js';
import { ElementwiseAffine } from '../transforms/affine.js';
import { AffineCoupling } from '../transforms/affine-coupling.js';
import { Permutation } from '../transforms/permutation.js';
import type { Bijector } from '../types.js';

/** An affine coupling: MLP on the conditioning columns, shift and soft-clamped log-scale on the others. */
export interface CouplingPlan {
  readonly kind: 'coupling';
  /** Index of its first variable in `flow.trainableVariables()` (w0, b0, w1, b1, …). */
  readonly firstVar: number;
  readonly condIdx: readonly number[];
  readonly transIdx: readonly number[];
  /** Layer widths of the conditioner: [condSize, …hidden, 2·|trans|]. */
  readonly sizes: readonly number[];
  readonly activation: 'relu' | 'tanh';
  readonly clamp: number;
}

/** ActNorm or ElementwiseAffine: z = (x − shift)·e^(−logScale). */
export interface ElementwisePlan {
  readonly kind: 'elementwise';
  /** Index of `shift`; `logScale` follows. */
  readonly firstVar: number;
}

/** A fixed permutation z[:, j] = x[:, perm[j]]. */
export interface PermutePlan {
  readonly kind: 'permute';
  readonly perm: readonly number[];
}

export type LayerPlan = CouplingPlan | ElementwisePlan | PermutePlan;

/** A flow the fused engine can score and train. */
export interface FusedPlan {
  readonly dim: number;
  readonly maxAbsInput: number;
  readonly layers: readonly LayerPlan[];
}

/**
 * The plan of one transform whose variables start at `firstVar`, or undefined when the fused engine does
 * not support it (or its activation / clamp).
 */
export function layerPlanFor(f: Bijector, firstVar: number): LayerPlan | undefined {
  if (f instanceof AffineCoupling) {
    const { dim, parity, hidden, activation, clamp } = f.config;
    if (activation === 'elu' || !(clamp > 0)) return undefined;
    const all = Array.from({ length: dim }, (_, i) => i);
    const condIdx = dim === 1 ? [] : all.filter((i) => i % 2 === parity);
    const transIdx = dim === 1 ? [0] : all.filter((i) => i % 2 !== parity);
    const sizes = [Math.max(1, condIdx.length), ...hidden, 2 * transIdx.length];
    return { kind: 'coupling', firstVar, condIdx, transIdx, sizes, activation, clamp };
  }
  if (f instanceof ActNorm || f instanceof ElementwiseAffine) return { kind: 'elementwise', firstVar };
  if (f instanceof Permutation) return { kind: 'permute', perm: f.perm };
  return undefined;
}

/** The plan of `flow`, or undefined when a transform, activation or the prior is not supported. */
export function planFor(flow: NormalizingFlow): FusedPlan | undefined {
  if (!(flow.prior instanceof StandardNormal)) return undefined;
  const layers: LayerPlan[] = [];
  let firstVar = 0;
  for (const f of flow.flows) {
    const plan = layerPlanFor(f, firstVar);
    if (plan === undefined) return undefined;
    layers.push(plan);
    firstVar += f.trainableVariables().length;
  }
  return { dim: flow.dim, maxAbsInput: flow.maxAbsInput, layers };
}

/**
 * Valid rows of row-major `values` (`n` rows of `dim`): finite with |x| ≤ `maxAbs` (1) or not (0), and a
 * copy with the invalid rows zeroed (`values` itself when all are valid).
 */
export function cleanRows(
  values: Float32Array,
  n: number,
  dim: number,
  maxAbs: number,
): { clean: Float32Array; valid: Uint8Array } {
  const valid = new Uint8Array(n);
  let clean = values;
  for (let i = 0; i < n; i++) {
    let ok = 1;
    for (let j = i * dim; j < (i + 1) * dim; j++) {
      const v = values[j]!;
      if (!(Math.abs(v) <= maxAbs) || !Number.isFinite(v)) ok = 0;
    }
    valid[i] = ok;
    if (ok === 0) {
      if (clean === values) clean = values.slice(0, n * dim);
      clean.fill(0, i * dim, (i + 1) * dim);
    }
  }
  return { clean: clean.length === n * dim ? clean : clean.subarray(0, n * dim), valid };
}

/** Row-major transpose of a `[rows, cols]` array (into `out` when given). */
export function transposed(
  a: Float32Array,
  rows: number,
  cols: number,
  out: Float32Array = new Float32Array(a.length),
): Float32Array {
  transposeInto(a, rows, cols, out, 0);
  return out;
}

/** Writes the transpose of row-major `a` (`[rows, cols]`) into `out` from `offset`, as `[cols, rows]`. */
export function transposeInto(
  a: Float32Array,
  rows: number,
  cols: number,
  out: Float32Array,
  offset: number,
): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[offset + j * rows + i] = a[i * cols + j]!;
  }
}

/**
 * Folded first layer `[dim, h1]`: the conditioner's input weights on the conditioning rows, 0 elsewhere.
 * `out`, when given, must hold zeros.
 */
export function foldInput(
  p: CouplingPlan,
  dim: number,
  w0: Float32Array,
  out: Float32Array = new Float32Array(dim * p.sizes[1]!),
): Float32Array {
  const h = p.sizes[1]!;
  for (const [r, row] of p.condIdx.entries()) out.set(w0.subarray(r * h, (r + 1) * h), row * h);
  return out;
}

/**
 * Folded output layer: shift weights `[hL, dim]` and log-scale weights divided by the clamp `[hL, dim]`
 * (so tanh sees s_raw / c), each scattered to the transformed columns (0 on the conditioning ones, which
 * makes z = x·e^s + t the identity there), plus their biases `[dim]`. `zeros(n)` gives the arrays.
 */
export function foldOutput(
  p: CouplingPlan,
  dim: number,
  w: Float32Array,
  b: Float32Array,
  zeros = (n: number): Float32Array => new Float32Array(n),
): { wt: Float32Array; ws: Float32Array; bt: Float32Array; bs: Float32Array } {
  const hL = p.sizes[p.sizes.length - 2]!;
  const k = p.transIdx.length;
  const wt = zeros(hL * dim);
  const ws = zeros(hL * dim);
  const bt = zeros(dim);
  const bs = zeros(dim);
  const inv = 1 / p.clamp;
  p.transIdx.forEach((col, j) => {
    for (let i = 0; i < hL; i++) {
      wt[i * dim + col] = w[i * 2 * k + j]!;
      ws[i * dim + col] = w[i * 2 * k + k + j]! * inv;
    }
    bt[col] = b[j]!;
    bs[col] = b[k + j]! * inv;
  });
  return { wt, ws, bt, bs };
}

/** Unfolds the gradient of the folded input layer `[dim, h1]` into `out` (`[condSize, h1]`). */
export function unfoldInput(p: CouplingPlan, dW: Float32Array, out: Float32Array): void {
  const h = p.sizes[1]!;
  if (p.condIdx.length === 0) out.fill(0);
  for (const [r, row] of p.condIdx.entries()) out.set(dW.subarray(row * h, (row + 1) * h), r * h);
}

/**
 * Unfolds gradients of the folded output layer (`dW` `[hL, 2·dim]`: shift columns then scaled log-scale
 * columns; `db` `[2·dim]`) into the conditioner's last weight `[hL, 2k]` and bias `[2k]`.
 */
export function unfoldOutput(
  p: CouplingPlan,
  dim: number,
  dW: Float32Array,
  db: Float32Array,
  outW: Float32Array,
  outB: Float32Array,
): void {
  const hL = p.sizes[p.sizes.length - 2]!;
  const k = p.transIdx.length;
  const inv = 1 / p.clamp;
  p.transIdx.forEach((col, j) => {
    for (let i = 0; i < hL; i++) {
      outW[i * 2 * k + j] = dW[i * 2 * dim + col]!;
      outW[i * 2 * k + k + j] = dW[i * 2 * dim + dim + col]! * inv;
    }
    outB[j] = db[col]!;
    outB[k + j] = db[dim + col]! * inv;
  });
}
