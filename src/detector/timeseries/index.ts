/**
 * Univariate time-series mode: the featurizer (per-key lag vectors, time-of-day / day-of-week features)
 * and the detector wrapper that keeps it in step with the model. See docs/detector.md.
 */
export {
  type ConditionalOptions,
  ConditionalSurprise,
  DEFAULT_CONDITIONAL_OPTIONS,
} from './conditional.js';
export {
  type ConditionalConfigSlice,
  ConditionalDetector,
  conditionalOptionsFromConfig,
} from './conditional-detector.js';
export { TimeSeriesDetector } from './detector.js';
export {
  TIME_RADIUS_JITTER,
  TimeSeriesFeaturizer,
  type TimeSeriesState,
  timeSeriesFeatures,
} from './featurizer.js';
export {
  modelFeatureNames,
  type TimeSeriesConfigSlice,
  type TimeSeriesOptions,
  timeSeriesFeatureNames,
  timeSeriesOptionsFromConfig,
} from './options.js';
export { type SurpriseScoreOptions, SurpriseScorer } from './surprise-score.js';
