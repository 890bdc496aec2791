/** The shared vocabulary of flowsentinel: records and events, the detector contract, drift events, RNG. */
export type { BatchDetector } from './detector.js';
export type { DriftEvent, DriftPhase, DriftSnapshot } from './drift.js';
export {
  DEAD_LETTER_REASONS,
  type DeadLetter,
  type DeadLetterReason,
  type Decoded,
  type FeatureContribution,
  type FeatureEvent,
  type RecordRef,
  type ScoredEvent,
  type SourceRecord,
} from './records.js';
export { createRng, normalArray, type Rng, uniformArray } from './rng.js';
export { DEFAULT_CLIP_NORM, DEFAULT_WEIGHT_DECAY } from './training-defaults.js';
