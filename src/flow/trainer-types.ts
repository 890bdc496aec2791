import type { Rng } from '../core/rng.js';
import type { AdamWState } from './adamw.js';
import type { Engine } from './fused/engine.js';
import type { NormalizingFlow } from './normalizing-flow.js';
import type { LearningRateSchedule, ScheduleSpec } from './schedule.js';
import type * as tf from './tf.js';

/** Training objective: a scalar loss to minimise, in nats. */
export type Objective = (flow: NormalizingFlow, x: tf.Tensor2D) => tf.Scalar;

/** Options of `Trainer`. */
export interface TrainerOptions {
  /** Peak learning rate. Default 1e-3. Not allowed together with a schedule *function*. */
  readonly learningRate?: number;
  /** Decoupled weight decay (AdamW). Default 1e-5. */
  readonly weightDecay?: number;
  /** Exempt rank < 2 parameters from weight decay. Default true. */
  readonly excludeVectorsFromDecay?: boolean;
  /** Adam (β1, β2). Default [0.9, 0.999]. */
  readonly betas?: readonly [number, number];
  /** Adam ε. Default 1e-8. */
  readonly epsilon?: number;
  /** Global-norm gradient clipping threshold. Default 1.0; ≤ 0 or Infinity disables. */
  readonly clipNorm?: number;
  /** Learning rate per update: a function of the applied-update count, or a spec peaking at `learningRate`. */
  readonly schedule?: LearningRateSchedule | ScheduleSpec;
  /** Loss to minimise. Default: `flow.nll(x)`, the mean negative log-likelihood. */
  readonly objective?: Objective;
  /**
   * `autodiff` (default): tfjs autodiff and the in-graph AdamW, the reference path. `fused`: AdamW,
   * clipping and the finite check on host arrays from one readback, and for supported flows a hand-written
   * tape-free forward/backward pass and fused scoring, or for mixture-CDF flows the host engine (both in
   * plain TypeScript, no tensors; see docs/flow-engine.md, "Engines").
   */
  readonly engine?: Engine;
  /**
   * `scoreRows` of at most this many rows runs on the host in JS instead of tfjs kernels, when the fused
   * engine supports the flow (default 0 = never). A kernel launch costs the same for 1 row as for 64, so
   * for a few rows (per-key models) the host is faster; scores agree to float32 rounding.
   */
  readonly hostScoreMaxRows?: number;
}

/** Outcome of one training step. */
export interface StepResult {
  /** Loss of the batch before the update, in nats (NaN/Infinity when the step was skipped for it). */
  readonly loss: number;
  /** Global L2 norm of the gradients before clipping. */
  readonly gradNorm: number;
  /** True when the loss or gradients were non-finite and the update was not applied. */
  readonly skipped: boolean;
  /** Updates applied so far, this one included. */
  readonly step: number;
  /** Learning rate used (or that would have been used) by this step. */
  readonly learningRate: number;
}

/** JSON form of the trainer state; the flow's weights are saved separately (`flow.toJSON()`). */
export interface TrainerState {
  readonly format: 'flowsentinel.trainer';
  readonly version: 1;
  readonly step: number;
  readonly skippedSteps: number;
  readonly optimizer: AdamWState;
}

/** Options of `Trainer.fit`. */
export interface FitOptions {
  /** Number of steps (minibatches). */
  readonly steps: number;
  /** Rows per minibatch, drawn uniformly with replacement. */
  readonly batchSize: number;
  /** Seeded source of the minibatch row indices. */
  readonly rng: Rng;
  /** Called after every step, awaited. */
  readonly onStep?: (result: StepResult) => void | Promise<void>;
}

/** Summary of `Trainer.fit`. */
export interface FitResult {
  /** Loss of every step, in order. */
  readonly losses: number[];
  /** Steps skipped because of a non-finite loss or gradient. */
  readonly skippedSteps: number;
}
