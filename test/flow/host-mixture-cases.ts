/** Shared cases of the host mixture engine's tests (Gaussian and logistic families). */
import type { Rng } from '../../src/core/rng.js';
import { HostFlow } from '../../src/flow/fused/host-flow.js';
import { hostPlanFor } from '../../src/flow/fused/host-plan.js';
import type { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import * as tf from '../../src/flow/tf.js';

/** The loss and the gradients in `flow.trainableVariables()` order. */
export interface LossAndGrads {
  loss: number;
  grads: Float32Array[];
}

/** `n` rows of `dim` normal values times `scale`. */
export function normalRows(rng: Rng, n: number, dim: number, scale = 1.5): Float32Array {
  return Float32Array.from({ length: n * dim }, () => scale * rng.normal());
}

/** Spreads the first mixture layer's means (seeded), so that its components differ. */
export function spreadMeans(flow: NormalizingFlow): void {
  const means = flow.trainableVariables()[1]!;
  const spread = tf.tidy(() => tf.add(means, tf.mul(tf.randomNormal(means.shape, 0, 1.5, 'float32', 3), 1)));
  means.assign(spread);
  spread.dispose();
}

/** The mean NLL of `x` and its gradients by tfjs autodiff: the reference. */
export function autodiffLossAndGrads(flow: NormalizingFlow, x: Float32Array, n: number): LossAndGrads {
  return tf.tidy(() => {
    const vars = flow.trainableVariables();
    const { value, grads } = tf.variableGrads(() => flow.nll(tf.tensor2d(x, [n, flow.dim])), vars);
    return {
      loss: value.dataSync()[0]!,
      grads: vars.map((v) => (grads[v.name] ?? tf.zerosLike(v)).dataSync() as Float32Array),
    };
  });
}

/** The same from the host engine's hand-written gradients. */
export function hostLossAndGrads(flow: NormalizingFlow, x: Float32Array, n: number): LossAndGrads {
  const model = new HostFlow(hostPlanFor(flow)!, flow);
  const packed = model.lossAndGradients(x, n);
  const grads = model.store.vars.map((_, i) => model.store.slice(packed.subarray(1), i).slice());
  return { loss: packed[0]!, grads };
}
