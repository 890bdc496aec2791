/** The pipeline's stages as typed RxJS operators; `runPipeline` composes them. */
export { acknowledge, registerArrivals } from './acknowledge.js';
export { PipelineCounters, type PipelineSummary } from './counters.js';
export {
  failIn,
  mapIn,
  PipelineError,
  type PipelineStage,
  type StageFailure,
  stageFailure,
} from './errors.js';
export { gateAlerts } from './gate-alerts.js';
export { notify } from './notify.js';
export { observeDrift } from './observe-drift.js';
export { oneAtATime } from './one-at-a-time.js';
export { scoreBatches } from './score-batches.js';
export type {
  AlertGate,
  BatchScorer,
  DriftStage,
  GatedBatch,
  ObservedBatch,
  OutputSink,
  ScoredBatch,
} from './types.js';
export {
  MAX_WRITES_IN_FLIGHT,
  validateWritesInFlight,
  type WriteBehindStages,
  writeBehind,
} from './write-behind.js';
export { type OutputSinks, writeDeadLetters, writeOutputs, writeTo } from './write-outputs.js';
