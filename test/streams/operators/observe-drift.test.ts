import { describe, expect, it } from 'vitest';
import type { DriftEvent } from '../../../src/detector/drift.js';
import { type DriftStage, observeDrift } from '../../../src/streams/operators/index.js';
import type { ScoredEvent } from '../../../src/streams/types.js';
import { driftEvent, observedBatch, pipelineErrorIn, testScheduler } from './helpers.js';

const withoutDrift = (offsets: number[], anomalous: number[] = []) => {
  const { driftEvents: _, ...gated } = observedBatch(offsets, anomalous);
  return gated;
};

/** Reports a drift start at the first anomaly it sees. */
class AnomalyDrift implements DriftStage {
  seen: string[] = [];
  observe(results: readonly ScoredEvent[]): readonly DriftEvent[] {
    this.seen.push(results.map((r) => r.ref.offset).join(','));
    const hit = results.find((r) => r.isAnomaly);
    return hit === undefined ? [] : [driftEvent(hit.ref)];
  }
}

describe('observeDrift', () => {
  it('attaches no drift events without a stage', () => {
    const a = withoutDrift([0, 1], [1]);
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a|', { a }).pipe(observeDrift(undefined))).toBe('x|', {
        x: { ...a, driftEvents: [] },
      });
    });
  });

  it('shows the stage every batch in order and attaches what it reports', () => {
    const a = withoutDrift([0, 1]);
    const b = withoutDrift([2, 3], [3]);
    const drift = new AnomalyDrift();
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      expectObservable(cold('a--b|', { a, b }).pipe(observeDrift(drift))).toBe('x--y|', {
        x: { ...a, driftEvents: [] },
        y: { ...b, driftEvents: [driftEvent(b.results[1]!.ref)] },
      });
      flush();
      expect(drift.seen).toEqual(['0,1', '2,3']);
    });
  });

  it('fails in stage drift when the stage throws', () => {
    const a = withoutDrift([0]);
    const broken: DriftStage = {
      observe: () => {
        throw new RangeError('window must be positive');
      },
    };
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('--a|', { a }).pipe(observeDrift(broken))).toBe(
        '--#',
        undefined,
        pipelineErrorIn('drift'),
      );
    });
  });
});
