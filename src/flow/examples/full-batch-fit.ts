import { InvalidOptionError } from '../../errors.js';
import { AdamW } from '../adamw.js';
import { clipByGlobalNorm } from '../clip.js';
import type { NormalizingFlow } from '../normalizing-flow.js';
import * as tf from '../tf.js';

/** Options of `fitFullBatch`. */
export interface FullBatchFitOptions {
  /** Optimizer steps, each on the whole batch. */
  readonly steps: number;
  /** AdamW learning rate. */
  readonly learningRate: number;
  /** AdamW decoupled weight decay. */
  readonly weightDecay: number;
  /** Global gradient-norm clip (0 disables). */
  readonly clipNorm: number;
}

/** Trains `flow` in place on `x`; resolves nothing, returns nothing. */
export type FitFunction = (flow: NormalizingFlow, x: tf.Tensor2D, options: FullBatchFitOptions) => void;

/**
 * Mean NLL of `x` as −mean(log p_prior(z) + Σ log|det J|), scalar. Unlike `NormalizingFlow.nll` it skips the
 * finite-floor `where`, whose condition (`logicalAnd` of `isFinite`) has no gradient kernel, so it can be
 * differentiated. Only for batches known to be finite and within `maxAbsInput`.
 */
export function differentiableNll(flow: NormalizingFlow, x: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const r = flow.logProb(x);
    return tf.neg(tf.mean(tf.add(r.priorLogProb, r.sumLogDet))) as tf.Scalar;
  });
}

/**
 * Minimal full-batch AdamW loop for the examples: gradient of the mean NLL, global-norm clipping, and the
 * update skipped in-graph when the gradient is not finite. No readback per step.
 */
export function fitFullBatch(flow: NormalizingFlow, x: tf.Tensor2D, options: FullBatchFitOptions): void {
  const { steps, learningRate, weightDecay, clipNorm } = options;
  if (!Number.isInteger(steps) || steps < 0) {
    throw new InvalidOptionError(`fitFullBatch: steps must be an integer ≥ 0, got ${steps}`);
  }
  const vars = flow.trainableVariables();
  if (vars.length === 0 || steps === 0) return;
  const opt = new AdamW(vars, { weightDecay });
  try {
    for (let i = 0; i < steps; i++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => differentiableNll(flow, x), vars);
        const ordered = vars.map((v) => grads[v.name]!);
        const clipped = clipByGlobalNorm(ordered, clipNorm);
        opt.apply(clipped.grads, learningRate, tf.all(tf.isFinite(clipped.norm)) as tf.Scalar);
      });
    }
  } finally {
    opt.dispose();
  }
}
