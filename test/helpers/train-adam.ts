/**
 * Maximum-likelihood training loop for the toy tests, on the production `Trainer` (AdamW without weight
 * decay = Adam, optional global-norm clipping) with a cosine learning-rate decay.
 */
import type { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import * as tf from '../../src/flow/tf.js';
import { Trainer } from '../../src/flow/trainer.js';

/** Options of `trainAdam`. */
export interface AdamLoopOptions {
  readonly steps: number;
  /** Peak learning rate; decays by a half cosine to `finalFraction` of it. */
  readonly learningRate: number;
  /** Row-major `[batch, dim]` minibatch for step `i` (e.g. fresh samples from a toy generator). */
  readonly batch: (step: number) => Float32Array;
  /** Global-norm clipping threshold. Default: no clipping (it costs three ops per variable). */
  readonly clipNorm?: number;
  /** Final learning rate as a fraction of the peak. Default 0.05. */
  readonly finalFraction?: number;
}

/** Trains `flow` by minimising its mean NLL; returns the loss of every step (nats). */
export function trainAdam(flow: NormalizingFlow, o: AdamLoopOptions): number[] {
  const floor = o.finalFraction ?? 0.05;
  const trainer = new Trainer(flow, {
    weightDecay: 0,
    epsilon: 1e-7,
    clipNorm: o.clipNorm ?? Number.POSITIVE_INFINITY,
    schedule: (i) => o.learningRate * (floor + (1 - floor) * 0.5 * (1 + Math.cos((Math.PI * i) / o.steps))),
  });
  const losses: number[] = [];
  try {
    for (let i = 0; i < o.steps; i++) {
      const rows = o.batch(i);
      const x = tf.tensor2d(rows, [rows.length / flow.dim, flow.dim]);
      try {
        losses.push(trainer.stepSync(x).loss);
      } finally {
        x.dispose();
      }
    }
  } finally {
    trainer.dispose();
  }
  return losses;
}
