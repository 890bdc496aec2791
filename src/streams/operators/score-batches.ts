import { concatMap, defer, last, map, type OperatorFunction } from 'rxjs';
import type { FeatureEvent, ScoredEvent } from '../types.js';
import { failIn, type StageFailure, stageFailure } from './errors.js';
import type { BatchScorer, ScoredBatch } from './types.js';

function checkResults(events: readonly FeatureEvent[], results: readonly ScoredEvent[]): void {
  const mismatch =
    results.length !== events.length ||
    results.some(
      (r, i) => r.ref.offset !== events[i]!.ref.offset || r.ref.partition !== events[i]!.ref.partition,
    );
  if (mismatch) {
    throw new Error(
      `detector returned ${results.length} results for ${events.length} events, or out of order`,
    );
  }
}

/**
 * Scores each micro-batch with `detector`, one batch at a time and in order: the next batch goes to the
 * detector only after the previous one's results arrived (the model learns from every batch it scores).
 * Fails with stage `detector` when the detector throws, rejects, or returns results that do not match
 * the events one to one.
 */
export function scoreBatches(
  detector: BatchScorer,
  fail: StageFailure = stageFailure(),
): OperatorFunction<readonly FeatureEvent[], ScoredBatch> {
  return concatMap((events) =>
    defer(() => detector.process(events)).pipe(
      last(),
      map((results) => {
        checkResults(events, results);
        return { events, results };
      }),
      failIn('detector', fail),
    ),
  );
}
