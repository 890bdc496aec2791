import type { ObservableInput } from 'rxjs';
import type { DriftEvent } from '../../core/drift.js';
import type { FeatureEvent, ScoredEvent } from '../types.js';

/**
 * What the operators call. `BatchDetector` and `Sink` fit these ports; a port may also answer with an
 * Observable, which is how the operator tests run them in virtual time.
 */
export interface BatchScorer {
  /** Results in input order, one per event; the answer must emit once. */
  process(batch: readonly FeatureEvent[]): ObservableInput<readonly ScoredEvent[]>;
}

/** An output destination as the write stages see it: done when `write`'s answer completes. */
export interface OutputSink<T> {
  write(items: readonly T[]): ObservableInput<unknown>;
}

/** Picks which anomalies become alerts (e.g. `AlertSuppressor`); sees every batch, in order. */
export interface AlertGate {
  apply(results: readonly ScoredEvent[]): {
    /** Every input, in order (anomalies may be annotated). */
    readonly results: readonly ScoredEvent[];
    /** The anomalies to write to the anomalies sink. */
    readonly alerts: readonly ScoredEvent[];
  };
}

/** Watches the scored stream for drift (e.g. `DriftMonitor`); sees every batch, in order. */
export interface DriftStage {
  observe(results: readonly ScoredEvent[]): readonly DriftEvent[];
}

/** A micro-batch and the detector's results for it, one per event, in order. */
export interface ScoredBatch {
  readonly events: readonly FeatureEvent[];
  readonly results: readonly ScoredEvent[];
}

/** A scored batch after the alert gate. */
export interface GatedBatch extends ScoredBatch {
  /** The anomalies to write to the anomalies sink. */
  readonly alerts: readonly ScoredEvent[];
  /** Results flagged `isAnomaly`, alerted or not. */
  readonly anomalies: number;
}

/** A gated batch after the drift stage: everything the sinks receive. */
export interface ObservedBatch extends GatedBatch {
  readonly driftEvents: readonly DriftEvent[];
}
