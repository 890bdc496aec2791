import { InvalidOptionError } from '../../errors.js';
import type { NormalizingFlow } from '../normalizing-flow.js';
import type * as tf from '../tf.js';
import { Trainer } from '../trainer.js';

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

/** Trains `flow` in place on `x`. */
export type FitFunction = (flow: NormalizingFlow, x: tf.Tensor2D, options: FullBatchFitOptions) => void;

/** Full-batch training with the project `Trainer` (AdamW, global-norm clipping, non-finite skip). */
export function fitFullBatch(flow: NormalizingFlow, x: tf.Tensor2D, options: FullBatchFitOptions): void {
  const { steps, learningRate, weightDecay, clipNorm } = options;
  if (!Number.isInteger(steps) || steps < 0) {
    throw new InvalidOptionError(`fitFullBatch: steps must be an integer ≥ 0, got ${steps}`);
  }
  if (steps === 0 || flow.trainableVariables().length === 0) return;
  const trainer = new Trainer(flow, { learningRate, weightDecay, clipNorm });
  try {
    for (let i = 0; i < steps; i++) trainer.stepSync(x);
  } finally {
    trainer.dispose();
  }
}
