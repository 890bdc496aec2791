/**
 * The host engine's view of a flow (issue 14 item 2, the mixture-CDF step): flows that start with a
 * per-feature mixture CDF in logit output, followed by affine couplings, permutations and elementwise
 * affine layers, into a Logistic or standard normal prior (`model.type: mixture-coupling` and
 * `mixture-cdf`). Such flows have no tfjs fused plan (`planFor`); the host engine scores and trains them
 * in plain TypeScript. Pure JS, no tensors.
 */
import type { NormalizingFlow } from '../normalizing-flow.js';
import { Logistic } from '../priors/logistic.js';
import { StandardNormal } from '../priors/standard-normal.js';
import { MixtureCdf, type MixtureFamily } from '../transforms/mixture-cdf.js';
import type { Bijector } from '../types.js';
import { type LayerPlan, layerPlanFor } from './plan.js';

/** A per-feature mixture CDF in logit output; variables `logits`, `means`, `logScales`, `[dim, K]`. */
export interface MixturePlan {
  readonly kind: 'mixture';
  /** Gaussian or logistic components. */
  readonly family: MixtureFamily;
  /** Index of `logits` in `flow.trainableVariables()`; `means` and `logScales` follow. */
  readonly firstVar: number;
  /** Components per feature, K. */
  readonly components: number;
}

export type HostLayerPlan = MixturePlan | LayerPlan;

/** A flow the host engine can score and train. */
export interface HostPlan {
  readonly dim: number;
  readonly maxAbsInput: number;
  readonly prior: 'logistic' | 'normal';
  readonly layers: readonly HostLayerPlan[];
}

function hostLayerPlan(f: Bijector, firstVar: number): HostLayerPlan | undefined {
  if (f instanceof MixtureCdf) {
    if (f.output !== 'logit') return undefined;
    return { kind: 'mixture', family: f.family, firstVar, components: f.components };
  }
  return layerPlanFor(f, firstVar);
}

/**
 * The host plan of `flow`, or undefined when a transform or the prior is not supported, or when the flow
 * has no mixture-CDF layer (flows without one have the tfjs fused engine, which is faster for wide
 * conditioners).
 */
export function hostPlanFor(flow: NormalizingFlow): HostPlan | undefined {
  const prior =
    flow.prior instanceof Logistic ? 'logistic' : flow.prior instanceof StandardNormal ? 'normal' : undefined;
  if (prior === undefined) return undefined;
  const layers: HostLayerPlan[] = [];
  let firstVar = 0;
  for (const f of flow.flows) {
    const plan = hostLayerPlan(f, firstVar);
    if (plan === undefined) return undefined;
    layers.push(plan);
    firstVar += f.trainableVariables().length;
  }
  if (!layers.some((l) => l.kind === 'mixture')) return undefined;
  return { dim: flow.dim, maxAbsInput: flow.maxAbsInput, prior, layers };
}
