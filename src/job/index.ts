/**
 * The job layer: builds the job's parts from a config, serves metrics and health, runs the detector over
 * a source (`runDetectorJob`), and restores and saves checkpoints. The CLI and `evaluate` call it.
 */
export {
  type CheckpointDocument,
  CheckpointError,
  type CheckpointExtension,
  type Checkpointer,
  type CheckpointPosition,
  checkpointDir,
  loadCheckpoint,
  openCheckpoints,
  type ResumePosition,
} from './checkpoint.js';
export {
  type KafkaRunResult,
  type KafkaSourceTuning,
  type ReplayFileToTopicOptions,
  type RunKafkaDetectorOptions,
  replayFileToTopic,
  runKafkaDetector,
} from './kafka.js';
export { createAlertSuppressor, createDriftMonitor, featureSpecOf } from './parts.js';
export { createProgress, type Progress } from './progress.js';
export { type ReplayOptions, type ReplaySummary, runReplay } from './replay.js';
export { type JobOptions, type JobResult, runDetectorJob } from './run.js';
export { JobProbe } from './serve.js';
