/**
 * Record and event types that flow through the pipeline (defined in `src/core`, re-exported here for the
 * stream code), and the sink interface.
 */
export type { BatchDetector } from '../core/detector.js';
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
} from '../core/records.js';

/** An output destination. `write` resolves when the items are durably accepted (acknowledged). */
export interface Sink<T> {
  write(items: readonly T[]): Promise<void>;
  /** Flushes buffered output and releases resources. */
  close(): Promise<void>;
}
