import { AdaptiveThreshold } from './adaptive.js';
import { RateController } from './rate-control.js';
import type { AdaptiveThresholdOptions, ThresholdDecision, ThresholdPolicy } from './types.js';

/**
 * What the quantile bounds:
 * - 'normal' (default): the false-alarm rate among normal-looking events. The reference keeps gross
 *   outliers out and learns flagged events only within the tail budget, so anomalies alert on top of q.
 * - 'all': the alert rate over all scored events, anomalies included (an alert budget). The reference
 *   learns every scored event and a `RateController` corrects the level from the realised rate.
 */
export type QuantileBudget = 'normal' | 'all';

/** Options of `QuantileThreshold`. */
export interface QuantileThresholdOptions extends AdaptiveThresholdOptions {
  /** Tail quantile q ∈ (0, 0.5], e.g. 0.001: alert below the q-quantile of recent log-likelihoods. */
  readonly quantile: number;
  /** What the quantile bounds (default 'normal'; see `QuantileBudget`). */
  readonly budget?: QuantileBudget;
}

/**
 * Adaptive log-likelihood threshold: t = q-quantile of the recent normal log-likelihoods, kept in a
 * windowed DDSketch (relative accuracy on t). An event is anomalous when log p(x) < t.
 * anomalyScore = 1 − p with p the event's tail p-value among the same recent values (as in the pvalue
 * policy), so scores are calibrated and score > 1 − q roughly coincides with an alert.
 */
export class QuantileThreshold extends AdaptiveThreshold implements ThresholdPolicy {
  readonly policy = 'quantile';
  readonly budget: QuantileBudget;

  constructor(options: QuantileThresholdOptions) {
    super('quantile', options.quantile, options);
    this.budget = options.budget ?? 'normal';
    if (this.budget === 'all') this.rateControl = new RateController(options.quantile);
  }

  /** The current threshold in nats, −∞ while there is no data. */
  get threshold(): number {
    if (this.sketch.count === 0) return Number.NEGATIVE_INFINITY;
    return this.sketch.quantile(this.rateControl?.level ?? this.rate);
  }

  /**
   * With budget 'all': counts the batch's alerts at the threshold `decide` used (state is unchanged in
   * between: the crossings, at most the credit's allowance) into the rate controller once ready, then learns
   * every value (verdicts are ignored: the budget is over all events). Otherwise as
   * `AdaptiveThreshold.update`.
   */
  override update(logLikelihoods: ArrayLike<number>, isAnomaly?: readonly boolean[]): void {
    const control = this.rateControl;
    if (control === undefined) {
      super.update(logLikelihoods, isAnomaly);
      return;
    }
    if (this.ready) {
      const crossings = crossingIndices(logLikelihoods, this.threshold).length;
      const n = logLikelihoods.length;
      control.observe(n, Math.min(crossings, control.allowance(n)));
    }
    super.update(logLikelihoods);
  }

  decide(logLikelihoods: ArrayLike<number>): ThresholdDecision {
    const threshold = this.threshold;
    const ready = this.ready;
    const p = this.pValues(logLikelihoods);
    const anomalyScore: number[] = [];
    const isAnomaly: boolean[] = new Array(logLikelihoods.length).fill(false);
    for (let i = 0; i < logLikelihoods.length; i++) anomalyScore.push(1 - p[i]!);
    if (ready) {
      const crossing = crossingIndices(logLikelihoods, threshold);
      const allowed = this.rateControl?.allowance(logLikelihoods.length) ?? crossing.length;
      for (const i of mostExtreme(logLikelihoods, crossing, allowed)) isAnomaly[i] = true;
    }
    return { threshold, ready, anomalyScore, isAnomaly };
  }
}

/** Indices of the values below `threshold` (NaN counts as below). */
function crossingIndices(values: ArrayLike<number>, threshold: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (Number.isNaN(x) || x < threshold) out.push(i);
  }
  return out;
}

/** The `k` of `indices` with the lowest values (NaN lowest), or all of them when there are at most k. */
function mostExtreme(values: ArrayLike<number>, indices: number[], k: number): number[] {
  if (indices.length <= k) return indices;
  const key = (i: number): number => {
    const x = values[i]!;
    return Number.isNaN(x) ? Number.NEGATIVE_INFINITY : x;
  };
  return [...indices].sort((a, b) => key(a) - key(b) || a - b).slice(0, Math.max(0, k));
}
