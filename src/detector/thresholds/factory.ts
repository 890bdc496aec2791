import type { ThresholdConfig } from '../../config/schema.js';
import { PValueThreshold } from './pvalue.js';
import { QuantileThreshold } from './quantile.js';
import { StaticThreshold } from './static.js';
import type { ThresholdDecision, ThresholdPolicy } from './types.js';

/** Builds the policy selected by the `threshold` config section. */
export function createThresholdPolicy(config: ThresholdConfig): ThresholdPolicy {
  switch (config.policy) {
    case 'static':
      return new StaticThreshold(config);
    case 'quantile':
      return new QuantileThreshold(config);
    case 'pvalue':
      return new PValueThreshold(config);
  }
}

/**
 * What the threshold learns from events it flagged:
 * - 'budget' (default): within the policy's tail budget (see `AdaptiveThreshold.update`); calibrated on
 *   clean data and robust to bursts.
 * - 'drop': nothing. The reference loses its own lower tail every window, so the threshold ratchets up
 *   and the alert rate grows well beyond q/α even on clean data. For experiments only.
 * - 'learn': everything; exact conformal calibration, but a burst of anomalies desensitises the threshold.
 */
export type AnomalyLearning = 'budget' | 'drop' | 'learn';

/** Options of `decideThenUpdate`. */
export interface DecideThenUpdateOptions {
  readonly anomalies?: AnomalyLearning;
}

/** Prequential step: scores the batch with the current state, then updates the policy with it. */
export function decideThenUpdate(
  policy: ThresholdPolicy,
  logLikelihoods: ArrayLike<number>,
  options: DecideThenUpdateOptions = {},
): ThresholdDecision {
  const decision = policy.decide(logLikelihoods);
  switch (options.anomalies ?? 'budget') {
    case 'budget':
      policy.update(logLikelihoods, decision.isAnomaly);
      break;
    case 'learn':
      policy.update(logLikelihoods);
      break;
    case 'drop':
      policy.update(Array.from(logLikelihoods).filter((_, i) => !decision.isAnomaly[i]));
      break;
  }
  return decision;
}
