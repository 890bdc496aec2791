import { type Observable, of, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { FlowsentinelError } from '../../../src/errors.js';
import { type BatchScorer, scoreBatches, stageFailure } from '../../../src/streams/operators/index.js';
import type { FeatureEvent, ScoredEvent } from '../../../src/streams/types.js';
import { featureEvent, pipelineErrorIn, scoredEvent, testScheduler } from './helpers.js';

const batchA = [featureEvent(0), featureEvent(1)];
const batchB = [featureEvent(2)];
const resultsOf = (batch: readonly FeatureEvent[]): ScoredEvent[] => batch.map((e) => scoredEvent(e));

/** A detector that answers after `delay` marble frames and records when each batch reached it. */
function slowDetector(
  answer: (batch: readonly FeatureEvent[]) => Observable<readonly ScoredEvent[]>,
  now: () => number,
): BatchScorer & { calls: Array<[number, string]> } {
  const calls: Array<[number, string]> = [];
  return {
    calls,
    process(batch) {
      calls.push([now(), batch.map((e) => e.ref.offset).join(',')]);
      return answer(batch);
    },
  };
}

describe('scoreBatches', () => {
  it('scores one batch at a time, in order: the next batch waits for the previous results', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const detector = slowDetector(
        (batch) => cold('---(r|)', { r: resultsOf(batch) }),
        () => ts.now(),
      );
      const batches = cold('ab|', { a: batchA, b: batchB });
      expectObservable(batches.pipe(scoreBatches(detector))).toBe('---a--(b|)', {
        a: { events: batchA, results: resultsOf(batchA) },
        b: { events: batchB, results: resultsOf(batchB) },
      });
      flush();
      expect(detector.calls).toEqual([
        [0, '0,1'],
        [3, '2'],
      ]);
    });
  });

  it('accepts a promise-returning BatchDetector', async () => {
    const detector = { process: (batch: readonly FeatureEvent[]) => Promise.resolve(resultsOf(batch)) };
    const seen: unknown[] = [];
    await new Promise<void>((resolve, reject) =>
      of(batchA, batchB)
        .pipe(scoreBatches(detector))
        .subscribe({ next: (b) => seen.push(b), error: reject, complete: resolve }),
    );
    expect(seen).toEqual([
      { events: batchA, results: resultsOf(batchA) },
      { events: batchB, results: resultsOf(batchB) },
    ]);
  });

  it('fails in stage detector, copying retriable, when the detector fails or throws', () => {
    const busy = new FlowsentinelError('model busy', { retriable: true });
    testScheduler().run(({ cold, expectObservable }) => {
      const failing: BatchScorer = { process: () => cold('--#', undefined, busy) };
      expectObservable(cold('a|', { a: batchA }).pipe(scoreBatches(failing))).toBe(
        '--#',
        undefined,
        pipelineErrorIn('detector', true),
      );
      const throwing: BatchScorer = {
        process: () => {
          throw new Error('not initialised');
        },
      };
      expectObservable(cold('a|', { a: batchA }).pipe(scoreBatches(throwing))).toBe(
        '#',
        undefined,
        pipelineErrorIn('detector', false),
      );
    });
  });

  it('fails in stage detector when results do not match the events one to one', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const tooFew: BatchScorer = { process: () => cold('-(r|)', { r: [] }) };
      const reordered: BatchScorer = { process: (b) => cold('-(r|)', { r: resultsOf(b).reverse() }) };
      const silent: BatchScorer = { process: () => cold('-|') };
      for (const detector of [tooFew, reordered, silent]) {
        expectObservable(cold('a|', { a: batchA }).pipe(scoreBatches(detector))).toBe(
          '-#',
          undefined,
          pipelineErrorIn('detector'),
        );
      }
    });
  });

  it('adds the failure context and leaves upstream errors alone', () => {
    const upstream = new Error('source gone');
    testScheduler().run(({ cold, expectObservable }) => {
      const fail = stageFailure(() => ({ summary: { batches: 7 } }));
      const broken: BatchScorer = { process: () => throwError(() => new Error('nan')) };
      expectObservable(cold('a|', { a: batchA }).pipe(scoreBatches(broken, fail))).toBe(
        '#',
        undefined,
        expect.objectContaining({
          stage: 'detector',
          context: { stage: 'detector', summary: { batches: 7 } },
        }),
      );
      const detector: BatchScorer = { process: (b) => cold('(r|)', { r: resultsOf(b) }) };
      expectObservable(
        cold<readonly FeatureEvent[]>('-#', undefined, upstream).pipe(scoreBatches(detector)),
      ).toBe('-#', undefined, upstream);
    });
  });
});
