import type { WindowedSketchState } from './windowed-sketch.js';

/** Names of the threshold policies. */
export type ThresholdPolicyName = 'static' | 'quantile' | 'pvalue';

/** Outcome of scoring one batch; arrays are in input order. */
export interface ThresholdDecision {
  /**
   * Threshold in force for the batch, in the policy's units: a log-likelihood in nats (static,
   * quantile: alert below it; −∞ when there is no data yet) or a p-value (pvalue: alert below α).
   */
  readonly threshold: number;
  /**
   * False while the policy has seen fewer than its minimum observations: nothing alerts then,
   * whatever `threshold` says (the detector reports such events as warming).
   */
  readonly ready: boolean;
  /** Anomaly score per event in [0, 1]; higher is more anomalous. */
  readonly anomalyScore: number[];
  readonly isAnomaly: boolean[];
}

/**
 * Decides which log-likelihoods are anomalous. Prequential use (see `decideThenUpdate`): `decide` a batch
 * with the current state, then `update` with the same batch and its verdicts. NaN and −∞ log-likelihoods
 * are maximally anomalous (score 1); `update` ignores non-finite values.
 */
export interface ThresholdPolicy {
  readonly policy: ThresholdPolicyName;
  /** Observations the threshold currently rests on (0 for static). */
  readonly observations: number;
  /** Scores a batch without changing state. Log-likelihoods in nats. */
  decide(logLikelihoods: ArrayLike<number>): ThresholdDecision;
  /**
   * Learns from log-likelihoods (nats). Without `isAnomaly` every value is learned. With it (adaptive
   * policies, see `AdaptiveThreshold.update`), gross outliers are never learned, normal values are, and
   * flagged ones only within the tail budget, so anomalies neither drag the threshold down nor are all
   * dropped.
   */
  update(logLikelihoods: ArrayLike<number>, isAnomaly?: readonly boolean[]): void;
  /** JSON-safe state for checkpoints. */
  getState(): ThresholdState;
  /** Restores `getState()` output; throws `SerializationError` when it does not fit this policy. */
  setState(state: unknown): void;
}

/** State of `StaticThreshold`. */
export interface StaticThresholdState {
  readonly policy: 'static';
  readonly version: 1;
  readonly logLikelihood: number;
  readonly scale: number;
}

/** State of the adaptive policies: their options plus the windowed sketch. */
export interface AdaptiveThresholdState {
  readonly policy: 'quantile' | 'pvalue';
  readonly version: 1;
  /** Quantile q (quantile policy) or α (pvalue policy). */
  readonly rate: number;
  readonly minObservations: number;
  /** Flagged events that may still be learned (tail budget tokens). */
  readonly tailBudget: number;
  /** Log correction of the quantile level by the rate controller (quantile policy, budget 'all'). */
  readonly logLevel?: number;
  /** Alert credit left (quantile policy, budget 'all'; see `RateController`). */
  readonly alertCredit?: number;
  readonly sketch: WindowedSketchState;
}

export type ThresholdState = StaticThresholdState | AdaptiveThresholdState;

/** Options shared by the adaptive policies. */
export interface AdaptiveThresholdOptions {
  /** Recent observations the threshold reflects (see `WindowedSketch`). Integer. */
  readonly window: number;
  /**
   * Observations required before anything alerts. Default max(100, ⌈1/rate⌉); must be ≥ ⌈1/rate⌉ (fewer
   * cannot resolve the rate) and ≤ window·(k−1)/k (so readiness survives ring rotation).
   */
  readonly minObservations?: number;
  /**
   * Slack of the tail budget in standard deviations of the per-window tail count (default 3; see
   * `AdaptiveThreshold.update`). Larger tolerates more natural clustering but lets bursts in sooner.
   */
  readonly tailSlackSd?: number;
  /** Rotating sub-sketches (default 4). */
  readonly subWindows?: number;
  /** DDSketch relative accuracy (default 0.005). */
  readonly relativeAccuracy?: number;
}
