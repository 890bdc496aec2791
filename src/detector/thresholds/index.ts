export {
  AdaptiveThreshold,
  adaptiveOptionProblems,
  defaultMinObservations,
  type OptionProblem,
} from './adaptive.js';
export {
  type AnomalyLearning,
  createThresholdPolicy,
  type DecideThenUpdateOptions,
  decideThenUpdate,
} from './factory.js';
export { PValueThreshold, type PValueThresholdOptions } from './pvalue.js';
export { type QuantileBudget, QuantileThreshold, type QuantileThresholdOptions } from './quantile.js';
export { MAX_LOG_CORRECTION, RATE_GAIN, RateController } from './rate-control.js';
export { StaticThreshold, type StaticThresholdOptions } from './static.js';
export type {
  AdaptiveThresholdOptions,
  AdaptiveThresholdState,
  StaticThresholdState,
  ThresholdDecision,
  ThresholdPolicy,
  ThresholdPolicyName,
  ThresholdState,
} from './types.js';
export {
  DEFAULT_RELATIVE_ACCURACY,
  DEFAULT_SUB_WINDOWS,
  WindowedSketch,
  type WindowedSketchOptions,
  type WindowedSketchState,
} from './windowed-sketch.js';
