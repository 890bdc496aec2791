import type { FeatureEvent, ScoredEvent } from './records.js';

/**
 * The detector as the pipeline sees it: scores a micro-batch with the current model, then learns from it
 * (prequential). Results are in input order, one per event.
 */
export interface BatchDetector {
  process(batch: readonly FeatureEvent[]): Promise<readonly ScoredEvent[]>;
}

/**
 * Lifecycle of per-key models, reported by the keyed detector (which knows nothing of Prometheus); the
 * job wires it to the `flowsentinel_keyed_*` metrics.
 */
export interface KeyedModelObserver {
  /** Live per-key models now. */
  onActive(count: number): void;
  /** A least recently used model was saved and freed. */
  onEviction(): void;
  /** An evicted model was loaded back when its key returned. */
  onLoad(): void;
}
