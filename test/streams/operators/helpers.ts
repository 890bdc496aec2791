import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import type { DriftEvent } from '../../../src/detector/drift.js';
import type { ObservedBatch } from '../../../src/streams/operators/index.js';
import type { FeatureEvent, RecordRef, ScoredEvent } from '../../../src/streams/types.js';

export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

export const ref = (offset: number, partition = 0): RecordRef => ({
  topic: 't',
  partition,
  offset: String(offset),
});

export function featureEvent(offset: number, partition = 0): FeatureEvent {
  return {
    ref: ref(offset, partition),
    timestamp: 1000 + offset,
    key: null,
    features: Float32Array.of(offset),
  };
}

/** The detector's result for `event`; an anomaly when `anomaly`. */
export function scoredEvent(event: FeatureEvent, anomaly = false): ScoredEvent {
  return {
    ref: event.ref,
    timestamp: event.timestamp,
    key: event.key,
    status: 'scored',
    logLikelihood: anomaly ? -20 : -1,
    anomalyScore: anomaly ? 1 : 0,
    threshold: -10,
    isAnomaly: anomaly,
    modelVersion: 1,
  };
}

export function driftEvent(at: RecordRef, kind: DriftEvent['kind'] = 'started'): DriftEvent {
  return {
    kind,
    id: 'drift@1000',
    timestamp: 1000,
    startedAt: 1000,
    ref: at,
    eventIndex: 1,
    score: 5,
    peakScore: 5,
    level: 4,
    windowMeanLogLikelihood: -8,
    referenceLogLikelihood: -1,
    referenceStd: 1,
    reason: null,
    durationMs: null,
  };
}

/**
 * A batch of the events at `offsets`, ready for the sinks; `anomalous` offsets are anomalies, all of them
 * alerted unless `alerted` says otherwise.
 */
export function observedBatch(
  offsets: readonly number[],
  anomalous: readonly number[] = [],
  options: { alerted?: readonly number[]; drift?: readonly DriftEvent[] } = {},
): ObservedBatch {
  const events = offsets.map((o) => featureEvent(o));
  const results = events.map((e, i) => scoredEvent(e, anomalous.includes(offsets[i]!)));
  const alerted = options.alerted ?? anomalous;
  return {
    events,
    results,
    alerts: results.filter((r) => alerted.includes(Number(r.ref.offset))),
    anomalies: anomalous.length,
    driftEvents: options.drift ?? [],
  };
}

/** What a marble error frame of a `PipelineError` of `stage` with this `retriable` flag must match. */
export function pipelineErrorIn(stage: string, retriable = false): unknown {
  return expect.objectContaining({ name: 'PipelineError', stage, retriable });
}
