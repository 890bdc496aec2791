/**
 * The fused training step (fused-step.ts) on the wasm backend without tfjs's op layer, as raw-score.ts
 * does for scoring: the same kernels with the same inputs and attributes (a 2-D `tf.matMul` is one
 * `BatchMatMul`, `tf.step` a `Step` with alpha 0, a number operand a float32 scalar, reshapes views of
 * the same data), so the packed loss and gradients are the same bits. The minibatch is written to the
 * backend from the host rows, not uploaded as a tensor and read back for the validity check. Every
 * intermediate is freed on the backend at the end; nothing reaches the engine's tensor count.
 */
import type { CouplingWeights, ElementwiseWeights, FusedModel, PermuteWeights } from './fused-model.js';
import { cleanRows } from './plan.js';
import { hidden, type Info, Pass, wasmKernels } from './raw-score.js';

/** The step's constants (fused-step.ts `StepConstants`). */
export interface RawStepConstants {
  readonly ones: Info;
  readonly selT: Info;
  readonly selS: Info;
}

type Saved =
  | { readonly kind: 'coupling'; acts: Info[]; th: Info; s: Info; es: Info; xe: Info }
  | { readonly kind: 'elementwise'; z: Info }
  | { readonly kind: 'permute' };

function forwardCoupling(p: Pass, h: Info, c: CouplingWeights): { z: Info; s: Info; saved: Saved } {
  const acts: Info[] = [h];
  let a = h;
  c.w.forEach((w, i) => {
    a = hidden(p, a, { w, b: c.b[i]! }, c.plan.activation);
    acts.push(a);
  });
  const t = p.fusedMatMul(a, c.wt, c.bt, 'linear');
  const th = p.run('Tanh', { x: p.fusedMatMul(a, c.ws, c.bs, 'linear') });
  const s = p.run('Multiply', { a: th, b: p.scalar(c.plan.clamp) });
  const es = p.run('Exp', { x: s });
  const xe = p.run('Multiply', { a: h, b: es });
  return { z: p.run('Add', { a: xe, b: t }), s, saved: { kind: 'coupling', acts, th, s, es, xe } };
}

function forwardAll(
  p: Pass,
  model: FusedModel,
  x: Info,
): { h: Info; sumS: Info | undefined; saved: Saved[] } {
  let h = x;
  const saved: Saved[] = [];
  let sumS: Info | undefined;
  for (const l of model.layers) {
    if (l.plan.kind === 'coupling') {
      const r = forwardCoupling(p, h, l as CouplingWeights);
      sumS = sumS === undefined ? r.s : p.run('Add', { a: sumS, b: r.s });
      saved.push(r.saved);
      h = r.z;
    } else if (l.plan.kind === 'elementwise') {
      const e = l as ElementwiseWeights;
      h = p.run('Add', { a: p.run('Multiply', { a: h, b: e.a }), b: e.b });
      saved.push({ kind: 'elementwise', z: h });
    } else {
      h = p.matMul(h, (l as PermuteWeights).p);
      saved.push({ kind: 'permute' });
    }
  }
  return { h, sumS, saved };
}

const transpose = (p: Pass, x: Info): Info => p.run('Transpose', { x }, { perm: [1, 0] });

function backwardCoupling(
  p: Pass,
  gz: Info,
  gS: Info,
  c: CouplingWeights,
  sv: Extract<Saved, { kind: 'coupling' }>,
  k: RawStepConstants,
  needDx: boolean,
): { dx: Info | undefined; grads: Info[] } {
  const { ones } = k;
  const ds = p.run('Add', { a: p.run('Multiply', { a: gz, b: sv.xe }), b: gS });
  const ls = p.run('Sub', { a: p.scalar(c.plan.clamp), b: p.run('Multiply', { a: sv.s, b: sv.th }) });
  const du = p.run('Multiply', { a: ds, b: ls });
  const dOut = p.run('Add', { a: p.matMul(gz, k.selT), b: p.matMul(du, k.selS) });
  const n = sv.acts.length - 1;
  const tail = [p.matMul(transpose(p, sv.acts[n]!), dOut), p.matMul(ones, dOut)];
  let dh = p.matMul(dOut, c.woutT);
  const grads: Info[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const y = sv.acts[i + 1]!;
    const slope =
      c.plan.activation === 'relu'
        ? p.run('Step', { x: y }, { alpha: 0 })
        : p.run('Sub', { a: p.scalar(1), b: p.run('Square', { x: y }) });
    const da = p.run('Multiply', { a: dh, b: slope });
    grads.unshift(p.matMul(transpose(p, sv.acts[i]!), da), p.matMul(ones, da));
    if (i > 0 || needDx) dh = p.matMul(da, c.wT[i]!);
  }
  const dx = needDx ? p.run('Add', { a: p.run('Multiply', { a: gz, b: sv.es }), b: dh }) : undefined;
  return { dx, grads: [...grads, ...tail] };
}

function backwardAll(
  p: Pass,
  model: FusedModel,
  saved: readonly Saved[],
  start: { gz: Info; gS: Info; weightSum: number },
  k: RawStepConstants,
): Info[] {
  const layers = model.layers;
  let gz = start.gz;
  const perLayer: Info[][] = [];
  for (let li = layers.length - 1; li >= 0; li--) {
    const l = layers[li]!;
    const sv = saved[li]!;
    if (sv.kind === 'coupling') {
      const r = backwardCoupling(p, gz, start.gS, l as CouplingWeights, sv, k, li > 0);
      perLayer.unshift(r.grads);
      if (r.dx !== undefined) gz = r.dx;
    } else if (sv.kind === 'elementwise') {
      const dx = p.run('Multiply', { a: gz, b: (l as ElementwiseWeights).a });
      const zSum = p.matMul(k.ones, p.run('Multiply', { a: gz, b: sv.z }));
      const dLogScale = p.run('Sub', { a: p.scalar(start.weightSum), b: zSum });
      perLayer.unshift([p.run('Neg', { x: p.matMul(k.ones, dx) }), dLogScale]);
      gz = dx;
    } else {
      perLayer.unshift([]);
      if (li > 0) gz = p.matMul(gz, (l as PermuteWeights).pT);
    }
  }
  return perLayer.flat();
}

/** The loss and each row's weight in it, from the unfloored log-densities (fused-step.ts). */
export type LossAndWeights = (
  raw: Float32Array,
  offset: number,
  valid: Uint8Array,
) => { loss: number; weights: Float32Array; weightSum: number };

/**
 * `[loss, folded gradients…]` of the mean NLL of the `n` row-major rows of `values` under the folded
 * model (refreshed by the caller), as fused-step.ts's `lossAndGradients` computes and reads back; or
 * undefined when the backend is not wasm (then use the tfjs ops). The gradients are copied from the
 * wasm heap into `out(size)` (the tfjs path's concat and readback, without their two copies).
 */
export function rawLossAndGradients(
  model: FusedModel,
  values: Float32Array,
  n: number,
  k: RawStepConstants,
  lossAndWeights: LossAndWeights,
  out: (size: number) => Float32Array,
): Float32Array | undefined {
  const kernels = wasmKernels();
  if (kernels === undefined) return undefined;
  const p = new Pass(kernels.backend, kernels.k);
  try {
    const dim = model.plan.dim;
    const { clean, valid } = cleanRows(values, n, dim, model.plan.maxAbsInput);
    const { h, sumS, saved } = forwardAll(p, model, p.input(clean, [n, dim]));
    const quad = p.run('Multiply', { a: p.run('Square', { x: h }), b: p.scalar(-0.5) });
    const total = sumS === undefined ? quad : p.run('Add', { a: sumS, b: quad });
    const raw = p.read(p.run('Sum', { x: total }, { axis: 1, keepDims: false }));
    const { loss, weights, weightSum } = lossAndWeights(raw, model.logProbOffset, valid);
    const mn = p.input(weights, [n, 1]);
    const gS = p.input(
      weights.map((v) => -v),
      [n, 1],
    );
    const gz = p.run('Multiply', { a: h, b: mn });
    const grads = backwardAll(p, model, saved, { gz, gS, weightSum }, k);
    const size = grads.reduce((acc, g) => acc + g.shape.reduce((a, b) => a * b, 1), 1);
    const packed = out(size);
    // `tf.tensor1d([loss])`: the loss rounded to float32.
    packed[0] = loss;
    let at = 1;
    for (const g of grads) at = p.readInto(g, packed, at);
    return packed;
  } finally {
    p.free();
  }
}
