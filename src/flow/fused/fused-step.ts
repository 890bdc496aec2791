/**
 * The fused engine's tape-free training step: forward with folded weights (fused matmul + bias + relu, no
 * gradient tape), then a hand-written backward pass with a few large kernels per layer, packed with the
 * loss into one tensor for one readback. Same objective as `NormalizingFlow.nll`: rows that `logProb`
 * floors (non-finite or too large inputs, non-finite or floored results) count with the floor and carry
 * no gradient.
 */
import { LOG_PROB_FLOOR } from '../normalizing-flow.js';
import * as tf from '../tf.js';
import {
  type CouplingWeights,
  type ElementwiseWeights,
  type FusedModel,
  hiddenLayer,
  type LayerWeights,
  type PermuteWeights,
} from './fused-model.js';
import type { GradientSource } from './host-step.js';
import type { ParamStore } from './param-store.js';
import { type CouplingPlan, cleanRows, unfoldInput, unfoldOutput } from './plan.js';
import { rawLossAndGradients } from './raw-step.js';

/**
 * Constants of the step, kept across steps (so XNNPACK packs them once): the `[1, n]` row of ones for the
 * bias gradients, and the selectors `[I | 0]`, `[0 | I]` (`[dim, 2·dim]`) that place the shift and
 * log-scale gradients side by side without a wasm Concat (a JS copy per row: ~55 µs at `[256, 8] × 2`,
 * against ~15 µs for two selector matmuls and an add).
 */
interface StepConstants {
  readonly ones: tf.Tensor2D;
  readonly selT: tf.Tensor2D;
  readonly selS: tf.Tensor2D;
}

/** What the backward pass needs from a layer's forward pass. */
type Saved =
  | {
      readonly kind: 'coupling';
      acts: tf.Tensor2D[];
      th: tf.Tensor2D;
      s: tf.Tensor2D;
      es: tf.Tensor2D;
      xe: tf.Tensor2D;
    }
  | { readonly kind: 'elementwise'; z: tf.Tensor2D }
  | { readonly kind: 'permute' };

function forwardCoupling(
  h: tf.Tensor2D,
  c: CouplingWeights,
): { z: tf.Tensor2D; s: tf.Tensor2D; saved: Saved } {
  const acts: tf.Tensor2D[] = [h];
  let a = h;
  c.w.forEach((w, i) => {
    a = hiddenLayer(a, w, c.b[i]!, c.plan.activation);
    acts.push(a);
  });
  const t = tf.fused.matMul({ a, b: c.wt, bias: c.bt });
  const th = tf.tanh(tf.fused.matMul({ a, b: c.ws, bias: c.bs })) as tf.Tensor2D;
  const s = tf.mul(th, c.plan.clamp) as tf.Tensor2D;
  const es = tf.exp(s) as tf.Tensor2D;
  const xe = tf.mul(h, es) as tf.Tensor2D;
  return { z: tf.add(xe, t) as tf.Tensor2D, s, saved: { kind: 'coupling', acts, th, s, es, xe } };
}

/**
 * Gradients of one coupling's folded weights (w0, b0, …, wout, bout) and, when `needDx`, of its input.
 * Bias gradients are `ones · δ` (a `[1, n]` row of ones): one small matmul instead of a wasm Sum, which
 * transposes first. Weight gradients keep the explicit transpose: transposed matmuls are slow on wasm.
 */
function backwardCoupling(
  gz: tf.Tensor2D,
  gS: tf.Tensor2D,
  c: CouplingWeights,
  sv: Extract<Saved, { kind: 'coupling' }>,
  k: StepConstants,
  needDx: boolean,
): { dx: tf.Tensor2D | undefined; grads: tf.Tensor[] } {
  const { ones } = k;
  const ds = tf.add(tf.mul(gz, sv.xe), gS);
  const du = tf.mul(ds, tf.sub(c.plan.clamp, tf.mul(sv.s, sv.th)));
  const dOut = tf.add(tf.matMul(gz, k.selT), tf.matMul(du, k.selS)) as tf.Tensor2D;
  const n = sv.acts.length - 1;
  const tail = [tf.matMul(tf.transpose(sv.acts[n]!), dOut), tf.matMul(ones, dOut)];
  let dh = tf.matMul(dOut, c.woutT);
  const grads: tf.Tensor[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const y = sv.acts[i + 1]!;
    const slope = c.plan.activation === 'relu' ? tf.step(y) : tf.sub(1, tf.square(y));
    const da = tf.mul(dh, slope) as tf.Tensor2D;
    grads.unshift(tf.matMul(tf.transpose(sv.acts[i]!), da), tf.matMul(ones, da));
    if (i > 0 || needDx) dh = tf.matMul(da, c.wT[i]!);
  }
  const dx = needDx ? (tf.add(tf.mul(gz, sv.es), dh) as tf.Tensor2D) : undefined;
  return { dx, grads: [...grads, ...tail] };
}

/** The forward pass from the (clean) input `h`: the output, the summed log-scales, what backward needs. */
function forwardAll(
  model: FusedModel,
  x: tf.Tensor2D,
): { h: tf.Tensor2D; sumS: tf.Tensor2D | undefined; saved: Saved[] } {
  let h = x;
  const saved: Saved[] = [];
  let sumS: tf.Tensor2D | undefined;
  for (const l of model.layers) {
    if (l.plan.kind === 'coupling') {
      const r = forwardCoupling(h, l as CouplingWeights);
      sumS = sumS === undefined ? r.s : (tf.add(sumS, r.s) as tf.Tensor2D);
      saved.push(r.saved);
      h = r.z;
    } else if (l.plan.kind === 'elementwise') {
      const e = l as ElementwiseWeights;
      h = tf.add(tf.mul(h, e.a), e.b) as tf.Tensor2D;
      saved.push({ kind: 'elementwise', z: h });
    } else {
      h = tf.matMul(h, (l as PermuteWeights).p);
      saved.push({ kind: 'permute' });
    }
  }
  return { h, sumS, saved };
}

/**
 * The mean NLL and each row's weight in it (1/n, or 0 for a floored row), from the unfloored
 * log-densities `raw` (without the model's constant) read back once: rows that are invalid, non-finite or
 * below the floor count with the floor and carry no gradient.
 */
function lossAndWeights(
  raw: Float32Array,
  offset: number,
  valid: Uint8Array,
): { loss: number; weights: Float32Array; weightSum: number } {
  const n = raw.length;
  const w = Math.fround(1 / n);
  const weights = new Float32Array(n);
  let sum = 0;
  let weightSum = 0;
  for (let i = 0; i < n; i++) {
    const lp = Math.fround(raw[i]! + offset);
    const ok = valid[i] === 1 && Number.isFinite(lp) && lp >= LOG_PROB_FLOOR;
    sum += ok ? lp : LOG_PROB_FLOOR;
    if (ok) {
      weights[i] = w;
      weightSum += w;
    }
  }
  return { loss: -sum / n, weights, weightSum };
}

/** The backward pass from `gz` = ∂loss/∂output: the folded gradients of every layer, in layer order. */
function backwardAll(
  model: FusedModel,
  saved: readonly Saved[],
  start: { gz: tf.Tensor2D; gS: tf.Tensor2D; weightSum: number },
  k: StepConstants,
): tf.Tensor[] {
  const layers = model.layers;
  let gz = start.gz;
  const perLayer: tf.Tensor[][] = [];
  for (let li = layers.length - 1; li >= 0; li--) {
    const l = layers[li]!;
    const sv = saved[li]!;
    if (sv.kind === 'coupling') {
      const r = backwardCoupling(gz, start.gS, l as CouplingWeights, sv, k, li > 0);
      perLayer.unshift(r.grads);
      if (r.dx !== undefined) gz = r.dx;
    } else if (sv.kind === 'elementwise') {
      const dx = tf.mul(gz, (l as ElementwiseWeights).a) as tf.Tensor2D;
      const dLogScale = tf.sub(start.weightSum, tf.matMul(k.ones, tf.mul(gz, sv.z)));
      perLayer.unshift([tf.neg(tf.matMul(k.ones, dx)), dLogScale]);
      gz = dx;
    } else {
      perLayer.unshift([]);
      if (li > 0) gz = tf.matMul(gz, (l as PermuteWeights).pT);
    }
  }
  return perLayer.flat();
}

/**
 * Packed `[loss, folded gradients…]` of the mean NLL of `x` under the folded model. Input validity is
 * checked on the host (kernels for a clean copy only when a row is invalid); the per-row log-densities
 * are read back once mid-step, so the loss and the rows' weights are computed on the host, not in ~10
 * small kernels.
 */
function lossAndGradients(model: FusedModel, x: tf.Tensor2D, k: StepConstants): tf.Tensor1D {
  return tf.tidy(() => {
    const n = x.shape[0];
    const dim = model.plan.dim;
    const { clean, valid } = cleanRows(x.dataSync() as Float32Array, n, dim, model.plan.maxAbsInput);
    const input = valid.every((v) => v === 1) ? x : tf.tensor2d(clean, [n, dim]);
    const { h, sumS, saved } = forwardAll(model, input);
    const quad = tf.mul(tf.square(h), -0.5);
    const raw = tf.sum(sumS === undefined ? quad : tf.add(sumS, quad), 1);
    const { loss, weights, weightSum } = lossAndWeights(
      raw.dataSync() as Float32Array,
      model.logProbOffset,
      valid,
    );
    const mn = tf.tensor2d(weights, [n, 1]);
    const gS = tf.tensor2d(
      weights.map((v) => -v),
      [n, 1],
    );
    const grads = backwardAll(model, saved, { gz: tf.mul(h, mn) as tf.Tensor2D, gS, weightSum }, k);
    const flat = grads.map((g) => tf.reshape(g, [-1]));
    return tf.concat([tf.tensor1d([loss]), ...flat]) as tf.Tensor1D;
  });
}

/**
 * Maps the packed folded gradients to `[loss, gradients in the store's variable layout]`, written into
 * `out` (`1 + store.size` values; every gradient is overwritten) and returned.
 */
function unpack(model: FusedModel, packed: Float32Array, store: ParamStore, out: Float32Array): Float32Array {
  out[0] = packed[0]!;
  const grads = out.subarray(1);
  const d = model.plan.dim;
  let at = 1;
  const take = (size: number): Float32Array => {
    at += size;
    return packed.subarray(at - size, at);
  };
  for (const l of model.layers as LayerWeights[]) {
    if (l.plan.kind === 'coupling') {
      const p = l.plan as CouplingPlan;
      const sizes = [d, ...p.sizes.slice(1, -1)];
      for (let i = 0; i + 1 < sizes.length; i++) {
        const dW = take(sizes[i]! * sizes[i + 1]!);
        const target = store.slice(grads, p.firstVar + 2 * i);
        if (i === 0) unfoldInput(p, dW, target);
        else target.set(dW);
        store.slice(grads, p.firstVar + 2 * i + 1).set(take(sizes[i + 1]!));
      }
      const last = p.firstVar + 2 * (sizes.length - 1);
      const hL = sizes[sizes.length - 1]!;
      unfoldOutput(
        p,
        d,
        take(hL * 2 * d),
        take(2 * d),
        store.slice(grads, last),
        store.slice(grads, last + 1),
      );
    } else if (l.plan.kind === 'elementwise') {
      store.slice(grads, l.plan.firstVar).set(take(d));
      store.slice(grads, l.plan.firstVar + 1).set(take(d));
    }
  }
  return out;
}

/** The tape-free gradient source for a supported flow with its default objective (mean NLL). */
export function fusedGradients(model: FusedModel): GradientSource {
  // Reused every step: the stepper reads the unpacked gradients only within `finish`.
  let buffer: Float32Array | undefined;
  let k: StepConstants | undefined;
  const constants = (n: number): StepConstants => {
    if (k?.ones.shape[1] === n) return k;
    if (k !== undefined) tf.dispose([k.ones, k.selT, k.selS]);
    const d = model.plan.dim;
    const sel = (from: number): tf.Tensor2D => {
      const m = new Float32Array(d * 2 * d);
      for (let j = 0; j < d; j++) m[j * 2 * d + from + j] = 1;
      return tf.tensor2d(m, [d, 2 * d]);
    };
    k = { ones: tf.tensor2d(new Float32Array(n).fill(1), [1, n]), selT: sel(0), selS: sel(d) };
    return k;
  };
  // On wasm the step runs its kernels directly from the host rows (raw-step.ts, same bits); `host` is
  // defined only there, so other backends take `launch` with the tfjs ops.
  // The raw step's packed readback, reused like `buffer`: `unpack` reads it within the same `finish`.
  let packed: Float32Array | undefined;
  const packedOf = (size: number): Float32Array => {
    if (packed?.length !== size) packed = new Float32Array(size);
    return packed;
  };
  const onHost = (values: Float32Array, n: number): Float32Array => {
    model.refresh();
    const k = constants(n);
    const raw = rawLossAndGradients(model, values, n, k, lossAndWeights, packedOf);
    if (raw !== undefined) return raw;
    const t = tf.tidy(() => lossAndGradients(model, tf.tensor2d(values, [n, model.plan.dim]), k));
    try {
      return t.dataSync() as Float32Array;
    } finally {
      t.dispose();
    }
  };
  return {
    get host() {
      return tf.getBackend() === 'wasm' ? onHost : undefined;
    },
    launch: (x) => {
      model.refresh();
      return lossAndGradients(model, x, constants(x.shape[0]));
    },
    unpack: (packed, store) => {
      if (buffer?.length !== 1 + store.size) buffer = new Float32Array(1 + store.size);
      return unpack(model, packed, store, buffer);
    },
    paramsChanged: () => model.refold(),
    dispose: () => {
      if (k !== undefined) tf.dispose([k.ones, k.selT, k.selS]);
      k = undefined;
      model.dispose();
    },
  };
}
