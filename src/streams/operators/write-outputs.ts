import {
  concat,
  concatMap,
  defer,
  ignoreElements,
  type MonoTypeOperatorFunction,
  merge,
  type Observable,
  of,
} from 'rxjs';
import type { DriftEvent } from '../../core/drift.js';
import type { DeadLetter, ScoredEvent } from '../types.js';
import { failIn, type PipelineStage, type StageFailure, stageFailure } from './errors.js';
import type { ObservedBatch, OutputSink } from './types.js';

/** The sinks `writeOutputs` fans a batch out to (`PipelineSinks` fits). */
export interface OutputSinks {
  /** Alerts: the batch's `alerts`. */
  readonly anomalies: OutputSink<ScoredEvent>;
  /** Every result of the batch, when wanted. */
  readonly scores?: OutputSink<ScoredEvent>;
  /** The batch's drift events, when wanted. */
  readonly drift?: OutputSink<DriftEvent>;
}

/**
 * One `sink.write(items)`, called on subscription: completes without emitting when the write resolved,
 * fails with a `PipelineError` of `stage` when it throws or rejects.
 */
export function writeTo<T>(
  stage: PipelineStage,
  sink: OutputSink<T>,
  items: readonly T[],
  fail: StageFailure = stageFailure(),
): Observable<never> {
  return defer(() => sink.write(items)).pipe(ignoreElements(), failIn(stage, fail));
}

/**
 * Writes each batch to its sinks at the same time — alerts to `anomalies` (when there are any), every
 * result to `scores`, drift events to `drift` (when there are any) — and emits the batch once every write
 * resolved, so what follows (acknowledgement) never runs before the batch's outputs are durable. Batches
 * are written one at a time, in order. Fails with the stage of the first write that fails
 * (`anomalies-sink`, `scores-sink`, `drift-sink`); the batch is then not emitted.
 */
export function writeOutputs(
  sinks: OutputSinks,
  fail: StageFailure = stageFailure(),
): MonoTypeOperatorFunction<ObservedBatch> {
  return concatMap((batch) => {
    const writes: Observable<never>[] = [];
    if (batch.alerts.length > 0) writes.push(writeTo('anomalies-sink', sinks.anomalies, batch.alerts, fail));
    if (sinks.scores !== undefined) writes.push(writeTo('scores-sink', sinks.scores, batch.results, fail));
    if (sinks.drift !== undefined && batch.driftEvents.length > 0) {
      writes.push(writeTo('drift-sink', sinks.drift, batch.driftEvents, fail));
    }
    return concat(merge(...writes), of(batch));
  });
}

/**
 * Writes each dead letter on its own to `sink`, one at a time and in order, and emits it once the write
 * resolved. Fails with stage `dead-letter-sink`.
 */
export function writeDeadLetters(
  sink: OutputSink<DeadLetter>,
  fail: StageFailure = stageFailure(),
): MonoTypeOperatorFunction<DeadLetter> {
  return concatMap((dead) => concat(writeTo('dead-letter-sink', sink, [dead], fail), of(dead)));
}
