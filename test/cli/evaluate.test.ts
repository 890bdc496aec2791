import { describe, expect, it } from 'vitest';
import { newMaxOnly, parseNabTime, TailScore } from '../../src/cli/evaluate.js';
import {
  bestThreshold,
  NAB_PROFILES,
  type NabSeries,
  nabScore,
  scaledSigmoid,
  sweepPoints,
} from '../../src/cli/nab-score.js';
import { InvalidOptionError } from '../../src/errors.js';
import type { ScoredEvent } from '../../src/streams/types.js';

const STD = NAB_PROFILES.standard;
const MAX_TP = 2 / (1 + Math.exp(-5)) - 1;

/** 100 points one minute apart, one window over points 50–59; probation is the first 15 points. */
function series(name = 'cat/a.csv'): NabSeries {
  const timestamps = Array.from({ length: 100 }, (_, i) => i * 60_000);
  return { name, timestamps, values: timestamps.map(() => 0), windows: [[50 * 60_000, 59 * 60_000]] };
}

/** Scores that are 0 except `hits` (index → score). */
function scores(hits: Record<number, number>): number[] {
  return Array.from({ length: 100 }, (_, i) => hits[i] ?? 0);
}

describe('NAB scoring', () => {
  it('scaledSigmoid matches NAB at the window edges', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(scaledSigmoid(3)).toBe(-1);
  });

  it('credits the earliest detection of a window fully and later ones less', () => {
    const early = sweepPoints(series(), scores({}), STD);
    expect(early[50]!.sweepScore).toBeCloseTo(1, 10);
    // Half-way: position −(59 − 55 + 1)/10 = −0.5.
    expect(early[55]!.sweepScore).toBeCloseTo(0.84828 / MAX_TP, 5);
    expect(early[55]!.window).toBe('cat/a.csv|0');
    // Before any window an FP costs the full fpWeight; after a window, less the closer it is.
    expect(early[20]!.sweepScore).toBeCloseTo(-0.11, 10);
    expect(early[20]!.window).toBeNull();
    expect(early[64]!.sweepScore).toBeCloseTo(scaledSigmoid(5 / 9) * 0.11, 10);
    expect(early[10]!.window).toBe('probationary');
  });

  it('normalises a perfect detection to 100 and no detection to 0', () => {
    expect(nabScore([series()], [scores({ 50: 1 })], STD)).toMatchObject({
      raw: 1,
      nullScore: -1,
      perfectScore: 1,
      normalised: 100,
    });
    expect(nabScore([series()], [scores({})], STD).normalised).toBe(0);
    // Detections in the probation period are ignored.
    expect(nabScore([series()], [scores({ 5: 1 })], STD).normalised).toBe(0);
  });

  it('sweeps one threshold: an FP above the TP is worth taking, twenty are not', () => {
    const one = nabScore([series()], [scores({ 20: 0.9, 50: 0.8 })], STD);
    expect(one.threshold).toBe(0.8);
    expect(one.raw).toBeCloseTo(1 - 0.11, 10);
    const many: Record<number, number> = { 50: 0.8 };
    for (let i = 20; i < 40; i++) many[i] = 0.9;
    const r = nabScore([series()], [scores(many)], STD);
    expect(r.raw).toBe(-1);
    expect(r.threshold).toBe(1.1);
    // reward_low_FN doubles the cost of the miss, so the same detections pay off there.
    expect(nabScore([series()], [scores(many)], NAB_PROFILES.reward_low_FN).raw).toBeCloseTo(1 - 2.2, 10);
  });

  it('evaluates tied scores together and counts only the best detection per window', () => {
    const pts = sweepPoints(series(), scores({ 52: 0.7, 58: 0.7, 30: 0.7 }), STD);
    const r = bestThreshold(pts, STD);
    expect(r.threshold).toBe(0.7);
    expect(r.score).toBeCloseTo(pts[52]!.sweepScore - 0.11, 10);
  });

  it('sums windows over series', () => {
    const r = nabScore([series('x/a.csv'), series('x/b.csv')], [scores({ 50: 1 }), scores({})], STD);
    expect(r.nullScore).toBe(-2);
    expect(r.perfectScore).toBe(2);
    expect(r.normalised).toBeCloseTo(50, 10);
  });

  it('parses NAB timestamps as UTC and rejects windows outside the series', () => {
    expect(parseNabTime('2014-02-19 10:50:00.000000')).toBe(Date.UTC(2014, 1, 19, 10, 50));
    expect(parseNabTime('2013-07-04 00:00:00')).toBe(Date.UTC(2013, 6, 4));
    expect(() => parseNabTime('19/02/2014')).toThrow(InvalidOptionError);
    const bad: NabSeries = { ...series(), windows: [[1e9, 2e9]] };
    expect(() => sweepPoints(bad, scores({}), STD)).toThrow(/no point/);
  });
});

describe('TailScore', () => {
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
