/** Evaluation on labelled data: tabular CSVs and NAB corpora (docs/evaluation.md). */
export {
  loadEvaluationConfig,
  mergeOverrides,
  NAB_CONFIG_FILE,
  NAB_DEFAULTS,
  TABULAR_CONFIG_FILE,
  TABULAR_DEFAULTS,
} from './config.js';
export {
  averagePrecision,
  type Classification,
  type CurvePoint,
  classification,
  rocAuc,
  type TimeToFirstAlert,
  thresholdCurve,
  timeToFirstAlert,
} from './metrics.js';
export {
  evaluateNab,
  evaluateNabDetail,
  formatNabSummary,
  NAB_DETECTOR_NAME,
  type NabEvaluation,
  type NabOptions,
  type NabSeriesRun,
} from './nab.js';
export {
  DEFAULT_DEDUPE_WINDOW,
  type NabSeriesScores,
  nabAnomalyScores,
  newMaxOnly,
  TailScore,
} from './nab-anomaly-score.js';
export { formatNabTime, nabResultsPath, parseNabTime, readNabCorpus } from './nab-corpus.js';
export {
  bestThreshold,
  NAB_PROFILE_NAMES,
  NAB_PROFILES,
  type NabProfile,
  type NabProfileName,
  type NabResult,
  type NabScore,
  type NabSeries,
  nabScore,
  probationLength,
  scaledSigmoid,
  scoreAtThreshold,
  scoreDetections,
  sweepCurve,
  sweepPoints,
} from './nab-score.js';
export { type NabProfileScores, type NabScoring, scoreNabCorpus } from './nab-scoring.js';
export {
  datasetName,
  evaluateTabular,
  evaluateTabularDetail,
  type TabularOptions,
  type TabularResult,
} from './tabular.js';
