import type { NormalizingFlow } from '../normalizing-flow.js';
import type * as tf from '../tf.js';
import { autodiffGradients, type GradientSource } from './host-step.js';

/** Training and scoring engines: `fused` (host optimizer, tape-free step, fused scoring) or `autodiff`. */
export const ENGINES = ['fused', 'autodiff'] as const;
export type Engine = (typeof ENGINES)[number];

/**
 * The gradient source of the fused engine for `flow`: the tape-free step when the flow is supported and
 * trained on its own NLL, else autodiff (whose gradients still go to the host optimizer).
 */
export function selectGradientSource(
  _flow: NormalizingFlow,
  _defaultObjective: boolean,
  objective: (x: tf.Tensor2D) => tf.Scalar,
): GradientSource {
  return autodiffGradients(objective);
}
