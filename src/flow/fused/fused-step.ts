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
  ones: tf.Tensor2D,
  needDx: boolean,
): { dx: tf.Tensor2D | undefined; grads: tf.Tensor[] } {
  const ds = tf.add(tf.mul(gz, sv.xe), gS);
  const du = tf.mul(ds, tf.sub(c.plan.clamp, tf.mul(sv.s, sv.th)));
  const dOut = tf.concat([gz, du], 1) as tf.Tensor2D;
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

/** Packed `[loss, folded gradients…]` of the mean NLL of `x` under the folded model. */
function lossAndGradients(model: FusedModel, x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const n = x.shape[0];
    // Input validity is checked on the host: kernels only when a row is invalid (zeroed, masked out).
    const { clean, valid } = cleanRows(
      x.dataSync() as Float32Array,
      n,
      model.plan.dim,
      model.plan.maxAbsInput,
    );
    const allValid = valid.every((v) => v === 1);
    let h = allValid ? x : tf.tensor2d(clean, [n, model.plan.dim]);
    const ones = tf.ones([1, n]) as tf.Tensor2D;
    const layers = model.layers;
    const saved: Saved[] = [];
    let sumS: tf.Tensor2D | undefined;
    for (const l of layers) {
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
    const quad = tf.mul(tf.square(h), -0.5);
    const raw = tf.add(tf.sum(sumS === undefined ? quad : tf.add(sumS, quad), 1), model.logProbOffset);
    const finite = tf.logicalAnd(tf.isFinite(raw), tf.greaterEqual(raw, LOG_PROB_FLOOR));
    const ok = allValid ? finite : tf.logicalAnd(tf.tensor1d(valid, 'bool'), finite);
    const loss = tf.neg(tf.mean(tf.where(ok, raw, tf.fill([n], LOG_PROB_FLOOR))));
    const mn = tf.reshape(tf.div(tf.cast(ok, 'float32'), n), [n, 1]) as tf.Tensor2D;
    const gS = tf.neg(mn) as tf.Tensor2D;
    const mSum = tf.sum(mn);
    let gz = tf.mul(h, mn) as tf.Tensor2D;
    const perLayer: tf.Tensor[][] = [];
    for (let li = layers.length - 1; li >= 0; li--) {
      const l = layers[li]!;
      const sv = saved[li]!;
      if (sv.kind === 'coupling') {
        const r = backwardCoupling(gz, gS, l as CouplingWeights, sv, ones, li > 0);
        perLayer.unshift(r.grads);
        if (r.dx !== undefined) gz = r.dx;
      } else if (sv.kind === 'elementwise') {
        const dx = tf.mul(gz, (l as ElementwiseWeights).a) as tf.Tensor2D;
        perLayer.unshift([tf.neg(tf.matMul(ones, dx)), tf.sub(mSum, tf.matMul(ones, tf.mul(gz, sv.z)))]);
        gz = dx;
      } else {
        perLayer.unshift([]);
        if (li > 0) gz = tf.matMul(gz, (l as PermuteWeights).pT);
      }
    }
    const flat = perLayer.flat().map((g) => tf.reshape(g, [-1]));
    return tf.concat([tf.reshape(loss, [1]), ...flat]) as tf.Tensor1D;
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
  return {
    launch: (x) => {
      model.refresh();
      return lossAndGradients(model, x);
    },
    unpack: (packed, store) => {
      if (buffer?.length !== 1 + store.size) buffer = new Float32Array(1 + store.size);
      return unpack(model, packed, store, buffer);
    },
    paramsChanged: () => model.refold(),
    dispose: () => model.dispose(),
  };
}
