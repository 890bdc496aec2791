import type { NormalizingFlow } from '../normalizing-flow.js';
import type * as tf from '../tf.js';
import { FusedModel } from './fused-model.js';
import { fusedGradients } from './fused-step.js';
import { autodiffGradients, type GradientSource } from './host-step.js';
import { ParamStore } from './param-store.js';
import { planFor } from './plan.js';

/** Training and scoring engines: `fused` (host optimizer, tape-free step, fused scoring) or `autodiff`. */
export const ENGINES = ['fused', 'autodiff'] as const;
export type Engine = (typeof ENGINES)[number];

/** What the fused engine uses for one flow. */
export interface FusedParts {
  /** Host copy of the flow's variables, shared by the optimizer and the folded model. */
  readonly store: ParamStore;
  readonly source: GradientSource;
  /** Folded weights for scoring (and the tape-free step), when the flow is supported. */
  readonly model: FusedModel | undefined;
}

/**
 * The fused engine's parts for `flow`: folded weights when every transform and the prior are supported
 * (see `planFor`), and the gradient source (autodiff for unsupported flows or a custom objective; the
 * host optimizer is used either way).
 */
export function fusedParts(
  flow: NormalizingFlow,
  defaultObjective: boolean,
  objective: (x: tf.Tensor2D) => tf.Scalar,
): FusedParts {
  const plan = planFor(flow);
  if (plan === undefined) {
    return {
      store: new ParamStore(flow.trainableVariables()),
      source: autodiffGradients(objective),
      model: undefined,
    };
  }
  const model = new FusedModel(plan, flow);
  if (defaultObjective) return { store: model.store, source: fusedGradients(model), model };
  const source: GradientSource = {
    ...autodiffGradients(objective),
    paramsChanged: () => model.refold(),
    dispose: () => model.dispose(),
  };
  return { store: model.store, source, model };
}
