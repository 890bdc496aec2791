/**
 * The host engine's layers: folding float32 variable values into float64 weights, per-batch buffers,
 * and the forward and backward passes over all layers (data → latent and back).
 */
import { HALF_LOG_2PI } from '../priors/prior-common.js';
import {
  type CouplingSaved,
  couplingBackward,
  couplingForward,
  couplingSaved,
  type HostCouplingWeights,
  permuteBackward,
  permuteForward,
} from './host-coupling.js';
import {
  foldMixture,
  type MixtureSaved,
  type MixtureWeights,
  mixtureBackward,
  mixtureForward,
  mixtureSaved,
  mixtureScratch,
} from './host-mixture.js';
import type { HostPlan } from './host-plan.js';
import type { ParamStore } from './param-store.js';

/** z = x·a + c with a = e^(−logScale), c = −shift·a. */
interface HostElementwise {
  readonly kind: 'elementwise';
  readonly firstVar: number;
  readonly a: Float64Array;
  readonly c: Float64Array;
}

export type HostLayer =
  | { readonly kind: 'mixture'; readonly w: MixtureWeights }
  | { readonly kind: 'coupling'; readonly w: HostCouplingWeights }
  | HostElementwise
  | { readonly kind: 'permute'; readonly perm: readonly number[] };

/** Folded layers and the constant part of log p: the normal prior's normaliser, elementwise log-dets. */
export interface HostWeights {
  readonly layers: readonly HostLayer[];
  readonly offset: number;
}

/** Float64 weights of `plan` from `store.values` (synced). */
export function foldLayers(plan: HostPlan, store: ParamStore): HostWeights {
  const value = (i: number): Float32Array => store.slice(store.values, i);
  const d = plan.dim;
  let offset = plan.prior === 'normal' ? -d * HALF_LOG_2PI : 0;
  const layers = plan.layers.map((l): HostLayer => {
    if (l.kind === 'permute') return { kind: 'permute', perm: l.perm };
    if (l.kind === 'mixture') {
      const w = foldMixture(l, d, value(l.firstVar), value(l.firstVar + 1), value(l.firstVar + 2));
      return { kind: 'mixture', w };
    }
    if (l.kind === 'elementwise') {
      const logScale = value(l.firstVar + 1);
      const a = Float64Array.from(logScale, (v) => Math.exp(-v));
      const c = Float64Array.from(value(l.firstVar), (v, j) => -v * a[j]!);
      offset -= logScale.reduce((acc, v) => acc + v, 0);
      return { kind: 'elementwise', firstVar: l.firstVar, a, c };
    }
    const n = l.sizes.length - 1;
    const w = Array.from({ length: n }, (_, i) => Float64Array.from(value(l.firstVar + 2 * i)));
    const b = Array.from({ length: n }, (_, i) => Float64Array.from(value(l.firstVar + 2 * i + 1)));
    return { kind: 'coupling', w: { plan: l, w, b } };
  });
  return { layers, offset };
}

type Saved = MixtureSaved | CouplingSaved | Float64Array | undefined;

/** Per-batch buffers for up to `capacity` rows. */
export interface Workspace {
  readonly capacity: number;
  /** The rows as they pass through the layers, `[capacity, dim]`; then dL/dz on the way back. */
  readonly h: Float64Array;
  readonly logDet: Float64Array;
  readonly gdet: Float64Array;
  readonly saved: readonly Saved[];
  readonly scratch: readonly [Float64Array, Float64Array];
  readonly row: Float64Array;
  readonly mix: Float64Array;
}

export function workspace(w: HostWeights, dim: number, capacity: number): Workspace {
  let widest = dim;
  let k = 1;
  const saved = w.layers.map((l): Saved => {
    if (l.kind === 'mixture') {
      k = Math.max(k, l.w.plan.components);
      return mixtureSaved(l.w, capacity);
    }
    if (l.kind === 'coupling') {
      widest = Math.max(widest, ...l.w.plan.sizes);
      return couplingSaved(l.w, capacity);
    }
    return l.kind === 'elementwise' ? new Float64Array(capacity * dim) : undefined;
  });
  const big = (): Float64Array => new Float64Array(capacity * widest);
  return {
    capacity,
    h: new Float64Array(capacity * dim),
    logDet: new Float64Array(capacity),
    gdet: new Float64Array(capacity),
    saved,
    scratch: [big(), big()],
    row: new Float64Array(dim),
    mix: mixtureScratch(k),
  };
}

/**
 * Runs every layer over `ws.h` (`rows` rows, in place); `ws.logDet` gets the log-determinants plus the
 * offset. `train` keeps what `backward` needs.
 */
export function forward(w: HostWeights, ws: Workspace, dim: number, rows: number, train: boolean): void {
  ws.logDet.fill(w.offset, 0, rows);
  for (const [li, l] of w.layers.entries()) {
    const s = ws.saved[li];
    if (l.kind === 'mixture') {
      mixtureForward(l.w, ws.h, rows, ws.logDet, ws.mix, train ? (s as MixtureSaved) : undefined);
    } else if (l.kind === 'coupling') {
      couplingForward(l.w, ws.h, dim, rows, ws.logDet, s as CouplingSaved);
    } else if (l.kind === 'elementwise') {
      for (let e = 0; e < rows * dim; e++) ws.h[e] = ws.h[e]! * l.a[e % dim]! + l.c[e % dim]!;
      if (train) (s as Float64Array).set(ws.h.subarray(0, rows * dim));
    } else {
      permuteForward(l.perm, ws.h, dim, rows, ws.row);
    }
  }
}

/** Gradient views of the store's variables, laid out like `store.values`. */
export type GradView = (variable: number) => Float64Array;

/**
 * Back through every layer from dL/dz in `ws.h` and dL/dlogDet in `ws.gdet` (after a training `forward`),
 * adding each variable's gradient to `grad(i)`.
 */
export function backward(w: HostWeights, ws: Workspace, dim: number, rows: number, grad: GradView): void {
  const g = ws.h;
  for (let li = w.layers.length - 1; li >= 0; li--) {
    const l = w.layers[li]!;
    const s = ws.saved[li];
    if (l.kind === 'mixture') {
      const v = l.w.plan.firstVar;
      const grads = { logits: grad(v), means: grad(v + 1), logScales: grad(v + 2) };
      mixtureBackward(l.w, s as MixtureSaved, rows, g, ws.gdet, grads);
    } else if (l.kind === 'coupling') {
      const p = l.w.plan;
      const n = p.sizes.length - 1;
      const grads = {
        w: Array.from({ length: n }, (_, i) => grad(p.firstVar + 2 * i)),
        b: Array.from({ length: n }, (_, i) => grad(p.firstVar + 2 * i + 1)),
      };
      couplingBackward(l.w, s as CouplingSaved, dim, rows, g, ws.gdet, grads, ws.scratch);
    } else if (l.kind === 'elementwise') {
      elementwiseBackward(l, s as Float64Array, g, ws.gdet, dim, rows, grad);
    } else {
      permuteBackward(l.perm, g, dim, rows, ws.row);
    }
  }
}

/** z = (x − shift)·e^(−ls): dL/dshift = −Σ gz·a, dL/dls = −Σ gz·z − Σ gdet; dL/dx = gz·a. */
function elementwiseBackward(
  l: HostElementwise,
  z: Float64Array,
  g: Float64Array,
  gdet: Float64Array,
  dim: number,
  rows: number,
  grad: GradView,
): void {
  const gShift = grad(l.firstVar);
  const gLog = grad(l.firstVar + 1);
  let sumDet = 0;
  for (let i = 0; i < rows; i++) sumDet += gdet[i]!;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < dim; j++) {
      const e = i * dim + j;
      gShift[j] = gShift[j]! - g[e]! * l.a[j]!;
      gLog[j] = gLog[j]! - g[e]! * z[e]!;
      g[e] = g[e]! * l.a[j]!;
    }
  }
  for (let j = 0; j < dim; j++) gLog[j] = gLog[j]! - sumDet;
}
