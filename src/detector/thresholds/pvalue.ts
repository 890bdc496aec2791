import { AdaptiveThreshold } from './adaptive.js';
import type { AdaptiveThresholdOptions, ThresholdDecision, ThresholdPolicy } from './types.js';

/** Options of `PValueThreshold`. */
export interface PValueThresholdOptions extends AdaptiveThresholdOptions {
  /** Significance level α ∈ (0, 0.5]: alert when the event's tail p-value < α. */
  readonly alpha: number;
}

/**
 * Calibrated alerting: p = (1 + #{recent log-likelihoods ≤ log p(x)}) / (n + 1), the conformal tail
 * p-value of the event's NLL among recent normal NLLs (ranks from a windowed DDSketch, ties in a bin
 * counted half). anomalyScore = 1 − p; alert when p < α, so in-distribution events alert at rate ≈ α.
 * The reported threshold is α.
 */
export class PValueThreshold extends AdaptiveThreshold implements ThresholdPolicy {
  readonly policy = 'pvalue';

  constructor(options: PValueThresholdOptions) {
    super('alpha', options.alpha, options);
  }

  decide(logLikelihoods: ArrayLike<number>): ThresholdDecision {
    const ready = this.ready;
    const p = this.pValues(logLikelihoods);
    const anomalyScore: number[] = [];
    const isAnomaly: boolean[] = [];
    for (let i = 0; i < p.length; i++) {
      anomalyScore.push(1 - p[i]!);
      isAnomaly.push(ready && p[i]! < this.rate);
    }
    return { threshold: this.rate, ready, anomalyScore, isAnomaly };
  }
}
