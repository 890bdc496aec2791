import type { RecordRef } from './records.js';

/** A drift episode confirmed (`started`) or over (`ended`). Field order is the JSON order. */
export interface DriftEvent {
  readonly kind: 'started' | 'ended';
  /** `drift@<startedAt>`, shared by the started and ended events of one episode. */
  readonly id: string;
  /** Event time of the event that confirmed or ended the drift, epoch ms. */
  readonly timestamp: number;
  /** Event time the score first went past the level in this episode, epoch ms. */
  readonly startedAt: number;
  /** The record that confirmed or ended the drift. */
  readonly ref: RecordRef;
  /** Scored events the monitor had seen, including this one. */
  readonly eventIndex: number;
  readonly score: number;
  readonly peakScore: number;
  readonly level: number;
  readonly windowMeanLogLikelihood: number;
  readonly referenceLogLikelihood: number;
  readonly referenceStd: number;
  /** `ended` only: `recovered` (score below the recover level for `forMs`) or `reference-reset`. */
  readonly reason: 'recovered' | 'reference-reset' | null;
  /** `ended` only: `timestamp − startedAt`, ms. */
  readonly durationMs: number | null;
}

/** Monitor phase: measuring the reference, watching for drift, or inside a confirmed drift. */
export type DriftPhase = 'reference' | 'watching' | 'drifting';

/** Read-only view for metrics and reports. Values are NaN when not yet available. */
export interface DriftSnapshot {
  readonly phase: DriftPhase;
  readonly score: number;
  readonly windowMean: number;
  readonly reference: number;
  readonly referenceStd: number;
  readonly eventsSeen: number;
}
