import { AdaptiveThreshold } from './adaptive.js';
import type { AdaptiveThresholdOptions, ThresholdDecision, ThresholdPolicy } from './types.js';

/** Options of `QuantileThreshold`. */
export interface QuantileThresholdOptions extends AdaptiveThresholdOptions {
  /** Tail quantile q ∈ (0, 0.5], e.g. 0.001: alert below the q-quantile of recent log-likelihoods. */
  readonly quantile: number;
}

/**
 * Adaptive log-likelihood threshold: t = q-quantile of the recent normal log-likelihoods, kept in a
 * windowed DDSketch (relative accuracy on t). An event is anomalous when log p(x) < t.
 * anomalyScore = 1 − p with p the event's tail p-value among the same recent values (as in the pvalue
 * policy), so scores are calibrated and score > 1 − q roughly coincides with an alert.
 */
export class QuantileThreshold extends AdaptiveThreshold implements ThresholdPolicy {
  readonly policy = 'quantile';

  constructor(options: QuantileThresholdOptions) {
    super('quantile', options.quantile, options);
  }

  /** The current threshold in nats, −∞ while there is no data. */
  get threshold(): number {
    return this.sketch.count === 0 ? Number.NEGATIVE_INFINITY : this.sketch.quantile(this.rate);
  }

  decide(logLikelihoods: ArrayLike<number>): ThresholdDecision {
    const threshold = this.threshold;
    const ready = this.ready;
    const p = this.pValues(logLikelihoods);
    const anomalyScore: number[] = [];
    const isAnomaly: boolean[] = [];
    for (let i = 0; i < logLikelihoods.length; i++) {
      const x = logLikelihoods[i]!;
      anomalyScore.push(1 - p[i]!);
      isAnomaly.push(ready && (Number.isNaN(x) || x < threshold));
    }
    return { threshold, ready, anomalyScore, isAnomaly };
  }
}
