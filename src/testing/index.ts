/**
 * `flowsentinel/testing`: replay recorded topics through the real pipeline in your own tests
 * (README "Replaying recorded topics in your tests").
 */

export type { ConfigOverrides } from '../config/load.js';
export type { DriftEvent } from '../core/drift.js';
export type { DeadLetter, ScoredEvent, SourceRecord } from '../core/records.js';
export { createRng, type Rng } from '../core/rng.js';
export type { PipelineSummary } from '../streams/pipeline.js';
export {
  type BytesInput,
  type RecordInput,
  type RecordOfOptions,
  recordingText,
  recordOf,
  writeRecording,
} from './records.js';
export {
  type PartialConfig,
  type Recording,
  type RecordingConfig,
  type RecordingSummary,
  type ReplayRecordingOptions,
  type ReplayResult,
  replayRecording,
} from './replay.js';
