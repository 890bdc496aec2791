import { describe, expect, it } from 'vitest';
import { FlowsentinelError } from '../../../src/errors.js';
import { type AlertGate, gateAlerts, type ScoredBatch } from '../../../src/streams/operators/index.js';
import type { ScoredEvent } from '../../../src/streams/types.js';
import { featureEvent, pipelineErrorIn, scoredEvent, testScheduler } from './helpers.js';

/** Offsets 0..n−1, anomalies at `anomalous`. */
function scoredBatch(offsets: readonly number[], anomalous: readonly number[]): ScoredBatch {
  const events = offsets.map((o) => featureEvent(o));
  return { events, results: events.map((e, i) => scoredEvent(e, anomalous.includes(offsets[i]!))) };
}

/** Alerts only the first anomaly it ever sees; the others are annotated as suppressed. */
class FirstOnly implements AlertGate {
  seen: string[] = [];
  private alerted = false;
  apply(results: readonly ScoredEvent[]) {
    this.seen.push(results.map((r) => r.ref.offset).join(','));
    const alerts: ScoredEvent[] = [];
    const out = results.map((r) => {
      if (!r.isAnomaly) return r;
      if (!this.alerted) {
        this.alerted = true;
        alerts.push(r);
        return r;
      }
      return { ...r, episode: { id: 'e', count: 2, suppressed: 1 } };
    });
    return { results: out, alerts };
  }
}

describe('gateAlerts', () => {
  it('without a gate, every anomaly is an alert', () => {
    const a = scoredBatch([0, 1, 2], [1, 2]);
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|', { a }).pipe(gateAlerts(undefined))).toBe('-x|', {
        x: { ...a, alerts: [a.results[1], a.results[2]], anomalies: 2 },
      });
    });
  });

  it('with a gate, takes its results and alerts; the gate sees every batch in order', () => {
    const a = scoredBatch([0, 1], [1]);
    const b = scoredBatch([2, 3], [2]);
    const gate = new FirstOnly();
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const suppressed = { ...b.results[0]!, episode: { id: 'e', count: 2, suppressed: 1 } };
      expectObservable(cold('a-b|', { a, b }).pipe(gateAlerts(gate))).toBe('x-y|', {
        x: { ...a, alerts: [a.results[1]], anomalies: 1 },
        // A suppressed anomaly still counts as an anomaly, but is no alert.
        y: { events: b.events, results: [suppressed, b.results[1]], alerts: [], anomalies: 1 },
      });
      flush();
      expect(gate.seen).toEqual(['0,1', '2,3']);
    });
  });

  it('fails in stage suppression when the gate throws or drops results', () => {
    const a = scoredBatch([0, 1], [1]);
    const throwing: AlertGate = {
      apply: () => {
        throw new FlowsentinelError('state store down', { retriable: true });
      },
    };
    const dropping: AlertGate = { apply: (results) => ({ results: results.slice(1), alerts: [] }) };
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|', { a }).pipe(gateAlerts(throwing))).toBe(
        '-#',
        undefined,
        pipelineErrorIn('suppression', true),
      );
      expectObservable(cold('-a|', { a }).pipe(gateAlerts(dropping))).toBe(
        '-#',
        undefined,
        expect.objectContaining({ stage: 'suppression', message: expect.stringMatching(/1 results for 2/) }),
      );
    });
  });
});
