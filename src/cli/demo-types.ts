/** Types shared by the demo run and its report. */
import type { DriftEvent } from '../core/drift.js';

/** The built-in demo stream's feature names. */
export const DEMO_FIELDS = ['cpu', 'memory', 'latency_ms', 'requests', 'errors', 'bytes_out'] as const;

/** Outcome of the demo. */
export interface DemoResult {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly injected: number;
  readonly flagged: number;
  readonly truePositives: number;
  readonly precision: number;
  readonly recall: number;
  readonly warming: number;
  readonly deadLettered: number;
  /** Events of the batches that trained, of those due for learning (the learning budget). */
  readonly learned: { readonly events: number; readonly of: number };
  /** Anomalies written as alerts, and those suppressed as repeats of an open episode. */
  readonly alerts: number;
  readonly suppressed: number;
  /** The injected drift episode, stream indices [start, end), or null. */
  readonly injectedDrift: {
    readonly start: number;
    readonly end: number;
    readonly shiftSigma: number;
  } | null;
  /** Drift events of the run, with the stream index of the event that triggered each. */
  readonly driftEvents: readonly DemoDriftEvent[];
  readonly reportPath: string;
}

/** A drift event located in the demo stream. */
export interface DemoDriftEvent {
  readonly event: DriftEvent;
  /** Stream index (0-based) of the event that confirmed or ended the drift. */
  readonly index: number;
  /** Stream index of the first event at or after `event.startedAt` (the score first past the level). */
  readonly startIndex: number;
}
