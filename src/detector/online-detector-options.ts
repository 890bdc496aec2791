/** Options, observer and busy error of `OnlineDetector`. */
import type { Rng } from '../core/rng.js';
import { FlowsentinelError } from '../errors.js';
import type { NormalizingFlow } from '../flow/normalizing-flow.js';
import type { StepResult, Trainer } from '../flow/trainer.js';
import type { ScoreKind } from '../flow/types.js';
import type { Dequantiser } from './dequantiser.js';
import type { Explainer } from './explain.js';
import type { LearnBudget } from './learn-budget.js';
import type { Reservoir } from './reservoir.js';
import type { Standardiser } from './standardiser.js';
import type { ThresholdPolicy } from './thresholds/types.js';

/** `getState`/`setState` was called while a batch was being processed. */
export class DetectorBusyError extends FlowsentinelError {}

/** Callbacks the metrics layer hangs on; the detector itself knows nothing of Prometheus. */
export interface DetectorObserver {
  onTrainStep?(result: StepResult): void;
  onBatchScored?(info: { size: number; warming: number; anomalies: number; threshold: number }): void;
}

/** Parts and policy of an `OnlineDetector`. */
export interface OnlineDetectorOptions {
  readonly flow: NormalizingFlow;
  readonly trainer: Trainer;
  readonly standardiser: Standardiser;
  readonly threshold: ThresholdPolicy;
  /** Seeded randomness for minibatch and reservoir draws. */
  readonly rng: Rng;
  /** Events learned from before anything alerts. */
  readonly warmupEvents: number;
  /** Optimizer steps after each micro-batch (0 = score only). */
  readonly stepsPerBatch: number;
  /**
   * Take the optimizer steps only in batches where the event count crosses a multiple of this (default 1:
   * every batch). Per-key models use it so a key with a few events per batch does not pay a full step each
   * time; rows of the other batches still go to the reservoir and come back through replay.
   */
  readonly trainEvery?: number;
  /**
   * Which batches due for training do train (shared by the global and per-key detectors); default: all.
   * Warm-up batches always train.
   */
  readonly budget?: LearnBudget;
  /** Rows per optimizer step. */
  readonly batchSize: number;
  /** Past normal rows mixed into training; omit to train on the new batch only. */
  readonly reservoir?: Reservoir;
  /** Share of each training step's rows drawn from the reservoir, in [0, 1). */
  readonly replayFraction?: number;
  /** Also train on events flagged anomalous (default false). */
  readonly trainOnAnomalies?: boolean;
  /**
   * Trimmed learning: scored rows whose conformal tail p-value (1 − `anomalyScore`) is below this are not
   * learned either, flagged or not, so a contamination above the alert rate is not learned as normal.
   * 0 (default) learns every unflagged row.
   */
  readonly trimTail?: number;
  /**
   * What the score (`ScoredEvent.logLikelihood`, which the threshold, drift and explanations read) is:
   * `density` (default), log p(x) in original units (the flow's and the standardiser's log-determinants
   * included), or `latent`, log p_prior(f(x)) of the standardised row: how far into the prior's tails its
   * latent lies, no log-determinant (docs/detector.md, "The score"). Training minimises −log p(x) either way.
   */
  readonly score?: ScoreKind;
  /** Training-time noise for discrete features (see `Dequantiser`); omit to learn the rows as they are. */
  readonly dequantiser?: Dequantiser;
  readonly observer?: DetectorObserver;
  /** Attaches the top contributing features to each anomaly (scored before training, same model). */
  readonly explainer?: Explainer;
  /**
   * Builds a trainer for a restored flow, with the same options as `trainer`. Required by `setState`,
   * which replaces the flow and the trainer.
   */
  readonly createTrainer?: (flow: NormalizingFlow) => Trainer;
}
