/** flowsentinel's public API for embedding: the flow engine, the detector, the pipeline and metrics. */

export { loadConfig } from './config/load.js';
export { type AppConfig, appConfigSchema } from './config/schema.js';
export { CheckpointError } from './detector/checkpoint-files.js';
export { type DriftEvent, DriftMonitor, serializeDriftEvent } from './detector/drift.js';
export { buildModel, createDetector, type DetectorParts } from './detector/factory.js';
export { KeyedDetector } from './detector/keyed-detector.js';
export {
  type DetectorObserver,
  OnlineDetector,
  type OnlineDetectorOptions,
} from './detector/online-detector.js';
export { Reservoir } from './detector/reservoir.js';
export { Standardiser } from './detector/standardiser.js';
export { AlertSuppressor } from './detector/suppression.js';
export {
  createThresholdPolicy,
  PValueThreshold,
  QuantileThreshold,
  StaticThreshold,
} from './detector/thresholds/index.js';
export * from './errors.js';
export * from './flow/index.js';
export { Checkpointer, openCheckpoints } from './job/checkpoint.js';
export { createDetectorMetrics, createMetricsRegistry, startMetricsServer } from './metrics/index.js';
export { AckTracker } from './streams/acks.js';
export { CreditGate } from './streams/backpressure.js';
export { createFeatureSpec } from './streams/feature-spec.js';
export { generatorSource } from './streams/generator-source.js';
export { runPipeline } from './streams/pipeline.js';
export { replaySource } from './streams/replay-source.js';
export { JsonlFileSink, MemorySink } from './streams/sinks.js';
export type * from './streams/types.js';
