/**
 * Record and event types that flow through the job. A record is Kafka-shaped whatever its source (Kafka,
 * replay file, generator), so every source plugs into the same pipeline.
 */

/** Where a record came from; enough to commit its offset and to find it again. */
export interface RecordRef {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offset as a decimal string (int64 does not fit a JS number). */
  readonly offset: string;
}

/** A Kafka-shaped input record. `value` normally holds UTF-8 JSON. */
export interface SourceRecord extends RecordRef {
  /** Event time, epoch milliseconds. */
  readonly timestamp: number;
  readonly key: Uint8Array | null;
  readonly headers: Readonly<Record<string, Uint8Array>>;
  readonly value: Uint8Array | null;
}

/** A record that decoded and validated into a feature vector. */
export interface FeatureEvent {
  readonly ref: RecordRef;
  /** Event time, epoch milliseconds. */
  readonly timestamp: number;
  /** Entity key from the configured key field (or the record key), or null. */
  readonly key: string | null;
  /** Feature values in feature-spec order; all finite. */
  readonly features: Float32Array;
  /**
   * True when the vector is not complete yet (time-series mode: fewer than `timeseries.lags` values of
   * this key so far, missing lags back-filled). Such an event must be emitted as 'warming' and neither
   * alert nor be learned from. Absent means complete.
   */
  readonly partial?: boolean;
}

/** Machine-readable reasons a record is dead-lettered: the one list (metrics, generator, summaries). */
export const DEAD_LETTER_REASONS = [
  'not_json',
  'not_object',
  'missing_field',
  'non_numeric',
  'non_finite',
  'oversize',
  'empty_value',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** A record that could not become a `FeatureEvent`, with the original bytes and why. */
export interface DeadLetter {
  readonly record: SourceRecord;
  readonly reason: DeadLetterReason;
  /** Human-readable detail, e.g. the offending field path. */
  readonly detail: string;
}

/** One feature's part in an anomaly's low likelihood (see docs/detector.md, "Explanations"). */
export interface FeatureContribution {
  /** Feature name (a `features.fields` entry, or a generated time-series name such as `value_lag0`). */
  readonly feature: string;
  /** The event's value, feature units. */
  readonly value: number;
  /** 1st percentile of the model's marginal for this feature, feature units. */
  readonly typicalLow: number;
  /** 99th percentile of the model's marginal for this feature, feature units. */
  readonly typicalHigh: number;
  /** Share of the attribution in [0, 1]; the shares of all features of an event sum to 1. */
  readonly share: number;
}

/** Output of the detector for one event. */
export interface ScoredEvent {
  readonly ref: RecordRef;
  readonly timestamp: number;
  readonly key: string | null;
  /** 'warming' while the detector learns without alerting. */
  readonly status: 'scored' | 'warming';
  /** log p(x) under the model, in nats, as a density in original feature units (standardiser log-Jacobian included). */
  readonly logLikelihood: number;
  /** Calibrated anomaly score in [0, 1]; higher is more anomalous. */
  readonly anomalyScore: number;
  /** The threshold in force, in the units of the active policy (log-likelihood or p-value). */
  readonly threshold: number;
  readonly isAnomaly: boolean;
  /** Monotonic model version: number of training updates applied so far. */
  readonly modelVersion: number;
  /** Anomalies only, when explanations are enabled: the top contributing features, largest share first. */
  readonly explanation?: readonly FeatureContribution[];
  /**
   * Anomalies only, when alert suppression is enabled: the key's alert episode (id), anomalies in it so
   * far including this one (count) and how many of them were suppressed (not alerted) so far.
   */
  readonly episode?: { readonly id: string; readonly count: number; readonly suppressed: number };
}

/** Result of decoding one record. */
export type Decoded =
  | { readonly ok: true; readonly event: FeatureEvent }
  | { readonly ok: false; readonly dead: DeadLetter };
