import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { nabAnomalyScores, newMaxOnly, TailScore } from '../../src/evaluate/nab-anomaly-score.js';
import type { ScoredEvent } from '../../src/streams/types.js';

function scored(
  logLikelihood: number,
  isAnomaly = false,
  status: ScoredEvent['status'] = 'scored',
): ScoredEvent {
  return {
    ref: { topic: 't', partition: 0, offset: '0' },
    timestamp: 0,
    key: null,
    status,
    logLikelihood,
    anomalyScore: 0,
    threshold: -15,
    isAnomaly,
    modelVersion: 0,
  };
}

describe('TailScore', () => {
  it('is 0 at the running mean, 0.5 at the threshold and grows below it without saturating', () => {
    const t = new TailScore();
    expect(t.next(scored(-10))).toBe(0);
    expect(t.next(scored(-15, true))).toBeCloseTo(0.5, 10);
    expect(t.next(scored(-20, true))).toBeCloseTo(2 / 3, 10);
    expect(t.next(scored(-1000, true))).toBeGreaterThan(t.next(scored(-500, true)));
    // Flagged events did not move the mean (still −10); the unflagged −12 does: mean −11, so −19 is two
    // threshold gaps below it.
    t.next(scored(-12));
    expect(t.next(scored(-19, true))).toBeCloseTo(2 / 3, 10);
  });

  it('scores warming and non-finite events 0', () => {
    const t = new TailScore();
    expect(t.next(scored(-50, false, 'warming'))).toBe(0);
    expect(t.next(scored(Number.NaN))).toBe(0);
    expect(t.next(scored(-10))).toBe(0);
  });
});

describe('newMaxOnly', () => {
  it('keeps a score only when it beats every score of the previous window', () => {
    const s = [0.1, 0.5, 0.4, 0.6, 0.6, 0.2];
    expect(newMaxOnly(s, 2)).toEqual([0.1, 0.5, 0, 0.6, 0, 0]);
    expect(newMaxOnly([0.9, 0, 0, 0.5], 2)).toEqual([0.9, 0, 0, 0.5]);
    expect(newMaxOnly([0.9, 0, 0, 0.5], 3)).toEqual([0.9, 0, 0, 0]);
    expect(newMaxOnly(s, 0)).toEqual(s);
    expect(() => newMaxOnly(s, -1)).toThrow(InvalidOptionError);
  });
});

describe('nabAnomalyScores', () => {
  it('detects the flagged points that survive repeat suppression: exactly the scores above 0.5', () => {
    const results = [
      scored(-10),
      scored(-20, true),
      scored(-18, true), // a repeat within the window: suppressed
      undefined, // dead-lettered: score 0
      scored(-11),
      scored(-40, true), // beats the earlier maximum
      scored(-50, false, 'warming'),
    ];
    const { scores, detections } = nabAnomalyScores(results, 3);
    expect(detections).toEqual([false, true, false, false, false, true, false]);
    expect(scores.map((s) => s > 0.5)).toEqual(detections);
    expect(scores[3]).toBe(0);
    expect(nabAnomalyScores(results, 0).detections.filter(Boolean)).toHaveLength(3);
  });

  it("takes the detector's own anomalyScore when it is the anomaly likelihood", () => {
    const at = (anomalyScore: number, isAnomaly: boolean, status: ScoredEvent['status'] = 'scored') => ({
      ...scored(-10, isAnomaly, status),
      anomalyScore,
    });
    const results = [at(0.5, false, 'warming'), at(0.2, false), at(0.7, true), at(0.6, true), at(1.3, true)];
    const { scores, detections } = nabAnomalyScores(results, 2, 'detector');
    expect(scores).toEqual([0.5, 0, 0.7, 0, 1]);
    expect(detections).toEqual([false, false, true, false, true]);
  });
});
