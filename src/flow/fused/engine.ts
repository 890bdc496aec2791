import type { NormalizingFlow } from '../normalizing-flow.js';
import type * as tf from '../tf.js';
import type { ScoreKind } from '../types.js';
import { FusedModel } from './fused-model.js';
import { fusedGradients } from './fused-step.js';
import { HostFlow, hostGradients } from './host-flow.js';
import { hostPlanFor } from './host-plan.js';
import { autodiffGradients, type GradientSource } from './host-step.js';
import { ParamStore } from './param-store.js';
import { planFor } from './plan.js';

/** Training and scoring engines: `fused` (host optimizer, tape-free step, fused scoring) or `autodiff`. */
export const ENGINES = ['fused', 'autodiff'] as const;
export type Engine = (typeof ENGINES)[number];

/** The fused engine's scorer of a flow: tfjs fused kernels (`FusedModel`) or the host engine (`HostFlow`). */
export interface RowScorer {
  /**
   * log p(x) per row of row-major `values` (`n` rows), floored like `NormalizingFlow.logProb`; with
   * `kind` `latent`, log p_prior(f(x)) (no log-determinant, see `ScoreKind`). Default `density`.
   */
  score(values: Float32Array, n: number, kind?: ScoreKind): Promise<Float32Array>;
  /** The same, computed on the host in JS (synchronous, no tensors). */
  scoreHost(values: Float32Array, n: number, kind?: ScoreKind): Float32Array;
}

/** What the fused engine uses for one flow. */
export interface FusedParts {
  /** Host copy of the flow's variables, shared by the optimizer and the folded model. */
  readonly store: ParamStore;
  readonly source: GradientSource;
  /** Folded weights for scoring (and the tape-free step), when the flow is supported. */
  readonly model: RowScorer | undefined;
  /** Whether the model is the host engine (mixture-CDF flows) rather than tfjs fused kernels. */
  readonly onHost: boolean;
}

/**
 * The fused engine's parts for `flow`:
 * - flows of affine couplings, ActNorm and permutations into a normal prior (`planFor`): folded weights,
 *   tfjs fused kernels for scoring and the tape-free step;
 * - flows with a mixture-CDF layer (`hostPlanFor`): the host engine, plain-TypeScript float64 scoring and
 *   step (`HostFlow`);
 * - anything else: autodiff gradients.
 * A custom objective always trains by autodiff (the host optimizer is used either way).
 */
export function fusedParts(
  flow: NormalizingFlow,
  defaultObjective: boolean,
  objective: (x: tf.Tensor2D) => tf.Scalar,
): FusedParts {
  const plan = planFor(flow);
  const hostPlan = plan === undefined ? hostPlanFor(flow) : undefined;
  if (plan === undefined && hostPlan === undefined) {
    return {
      store: new ParamStore(flow.trainableVariables()),
      source: autodiffGradients(objective),
      model: undefined,
      onHost: false,
    };
  }
  const model = plan !== undefined ? new FusedModel(plan, flow) : new HostFlow(hostPlan!, flow);
  const onHost = model instanceof HostFlow;
  if (defaultObjective) {
    const source = model instanceof HostFlow ? hostGradients(model) : fusedGradients(model);
    return { store: model.store, source, model, onHost };
  }
  const source: GradientSource = {
    ...autodiffGradients(objective),
    paramsChanged: () => model.refold(),
    dispose: () => model.dispose(),
  };
  return { store: model.store, source, model, onHost };
}
