/**
 * The fused training step (fused-step.ts) on the wasm backend without tfjs's op layer, as raw-score.ts
 * does for scoring: the same kernels with the same inputs and attributes (a 2-D `tf.matMul` is one
 * `BatchMatMul`, `tf.step` a `Step` with alpha 0, a number operand a float32 scalar, reshapes views of
 * the same data), so the packed loss and gradients are the same bits. Two parts are computed otherwise,
 * with the same float32 arithmetic in the same order (so still the same bits), because a kernel call has
 * a fixed cost of 3–5 µs (measured per kernel by bench/step-kernels.bench.ts): each coupling's output
 * gradient in one JS pass over the wasm heap (`outputGradient`), and the first hidden activation's
 * transpose as a small matmul (`firstTransposed`). The minibatch is written to the backend from the host
 * rows, not uploaded as a tensor and read back for the validity check. Every intermediate is freed on
 * the backend at the end; nothing reaches the engine's tensor count.
 */
import type { CouplingWeights, ElementwiseWeights, FusedModel, PermuteWeights } from './fused-model.js';
import { cleanRows } from './plan.js';
import { hidden, type Info, Pass, wasmKernels } from './raw-score.js';

/** The step's constants it uses (of fused-step.ts `StepConstants`: the `[1, n]` row of ones). */
export interface RawStepConstants {
  readonly ones: Info;
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

/** A gradient to pack: a kernel output, or its values `from`…`to`. */
type Part = Info | { readonly x: Info; readonly from: number; readonly to?: number };

const sizeOf = (x: Info): number => x.shape.reduce((a, b) => a * b, 1);
const partSize = (g: Part): number => ('dataId' in g ? sizeOf(g) : (g.to ?? sizeOf(g.x)) - g.from);

/**
 * `[gz | du]` (`[n, 2·dim]`), the gradient of a coupling's conditioner output, with
 * du = (gz·xe + gS)·(c − s·tanh): one JS pass over the wasm heap instead of five elementwise kernels, two
 * selector matmuls and an add (a kernel call costs 3–5 µs at `[256, 8]` before any arithmetic). Each step
 * is rounded to float32 as the kernels round it, and `+ 0` is the selector matmul's zero start (−0
 * becomes +0), so the values are the kernels' bits.
 */
function outputGradient(
  p: Pass,
  gz: Info,
  gS: Float32Array,
  sv: Extract<Saved, { kind: 'coupling' }>,
  clamp: number,
): Info {
  const [n, d] = gz.shape as [number, number];
  const out = p.output([n, 2 * d]);
  const [o, g, xe, s, th] = [p.view(out), p.view(gz), p.view(sv.xe), p.view(sv.s), p.view(sv.th)];
  const c = Math.fround(clamp);
  for (let r = 0; r < n; r++) {
    const gs = gS[r]!;
    for (let j = 0, i = r * d, at = 2 * r * d; j < d; j++, i++, at++) {
      const ds = Math.fround(Math.fround(g[i]! * xe[i]!) + gs);
      o[at] = g[i]! + 0;
      o[at + d] = Math.fround(ds * Math.fround(c - Math.fround(s[i]! * th[i]!))) + 0;
    }
  }
  return out;
}

/**
 * `[1ᵀ; hᵀ]` (`[1 + dim, n]`, the coupling input transposed under a row of ones) and the first hidden
 * activation transposed, a₁ᵀ = act([b₀ | W₀ᵀ] · [1ᵀ; hᵀ]). That small matmul adds the bias first and then
 * the same products in the same order as the forward's fused matmul, so it gives the bits of a₁
 * transposed for about half of a `Transpose` kernel at `[256, 64]`; and `[1ᵀ; hᵀ] · δ₀` gives the first
 * layer's bias and weight gradients in one matmul.
 */
function firstTransposed(p: Pass, h: Info, c: CouplingWeights): { hT: Info; a1T: Info } {
  const [n, d] = h.shape as [number, number];
  const wT = c.wT[0]!;
  const h1 = wT.shape[0];
  const hT = p.output([1 + d, n]);
  const bw = p.output([h1, 1 + d]);
  const [o, x, q, w, b] = [p.view(hT), p.view(h), p.view(bw), p.view(wT), p.view(c.b[0]!)];
  o.fill(1, 0, n);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) o[(1 + j) * n + r] = x[r * d + j]!;
  for (let m = 0; m < h1; m++) {
    q[m * (1 + d)] = b[m]!;
    for (let j = 0; j < d; j++) q[m * (1 + d) + 1 + j] = w[m * d + j]!;
  }
  const relu = c.plan.activation === 'relu';
  const lin = p.fusedMatMul(bw, hT, undefined, relu ? 'relu' : 'linear');
  return { hT, a1T: relu ? lin : p.run('Tanh', { x: lin }) };
}

function backwardCoupling(
  p: Pass,
  gz: Info,
  gS: Float32Array,
  c: CouplingWeights,
  sv: Extract<Saved, { kind: 'coupling' }>,
  k: RawStepConstants,
  needDx: boolean,
): { dx: Info | undefined; grads: Part[] } {
  const { ones } = k;
  const dOut = outputGradient(p, gz, gS, sv, c.plan.clamp);
  const n = sv.acts.length - 1;
  const first = n > 0 ? firstTransposed(p, sv.acts[0]!, c) : undefined;
  const actT = (i: number): Info => (i === 1 && first !== undefined ? first.a1T : transpose(p, sv.acts[i]!));
  const tail = [p.matMul(actT(n), dOut), p.matMul(ones, dOut)];
  let dh = p.matMul(dOut, c.woutT);
  const grads: Part[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const y = sv.acts[i + 1]!;
    const slope =
      c.plan.activation === 'relu'
        ? p.run('Step', { x: y }, { alpha: 0 })
        : p.run('Sub', { a: p.scalar(1), b: p.run('Square', { x: y }) });
    const da = p.run('Multiply', { a: dh, b: slope });
    if (i === 0 && first !== undefined) {
      // [db₀; dW₀]: the bias row first, packed after the weights.
      const g = p.matMul(first.hT, da);
      const h1 = da.shape[1]!;
      grads.unshift({ x: g, from: h1 }, { x: g, from: 0, to: h1 });
    } else grads.unshift(p.matMul(actT(i), da), p.matMul(ones, da));
    if (i > 0 || needDx) dh = p.matMul(da, c.wT[i]!);
  }
  const dx = needDx ? p.run('Add', { a: p.run('Multiply', { a: gz, b: sv.es }), b: dh }) : undefined;
  return { dx, grads: [...grads, ...tail] };
}

function backwardAll(
  p: Pass,
  model: FusedModel,
  saved: readonly Saved[],
  start: { gz: Info; gS: Float32Array; weightSum: number },
  k: RawStepConstants,
): Part[] {
  const layers = model.layers;
  let gz = start.gz;
  const perLayer: Part[][] = [];
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
    const gS = weights.map((v) => -v);
    const gz = p.run('Multiply', { a: h, b: mn });
    const grads = backwardAll(p, model, saved, { gz, gS, weightSum }, k);
    const size = grads.reduce((acc, g) => acc + partSize(g), 1);
    const packed = out(size);
    // `tf.tensor1d([loss])`: the loss rounded to float32.
    packed[0] = loss;
    let at = 1;
    for (const g of grads)
      at = 'dataId' in g ? p.readInto(g, packed, at) : p.readInto(g.x, packed, at, g.from, g.to);
    return packed;
  } finally {
    p.free();
  }
}
