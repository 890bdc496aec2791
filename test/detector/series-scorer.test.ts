import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { DEFAULT_LIKELIHOOD_OPTIONS } from '../../src/detector/anomaly-likelihood.js';
import { RangeBreakout } from '../../src/detector/range-breakout.js';
import { SeriesScorer, type SeriesScoringOptions } from '../../src/detector/series-scorer.js';
import { InvalidOptionError, SerializationError } from '../../src/errors.js';

const PVALUE: SeriesScoringOptions = {
  ...DEFAULT_LIKELIHOOD_OPTIONS,
  enabled: true,
  score: 'pvalue',
  rangeTolerance: 0.02,
  threshold: 0.999,
};

/** Seeded daily-like series (sine + noise) with a level shift to a never-seen level at `shiftAt`. */
function series(n: number, scale: number, offset: number, shiftAt: number, seed = 1): number[] {
  const rng = createRng(seed);
  return Array.from(
    { length: n },
    (_, i) => offset + scale * (Math.sin(i / 20) + 0.1 * rng.normal() + (i >= shiftAt ? 3 : 0)),
  );
}

function run(values: readonly number[], o = PVALUE): number[] {
  const scorer = new SeriesScorer(o);
  // A fake detector: log p = −|x| in units of the series, anomalyScore 0.3, scored after 50 events.
  return values.map((v, i) => scorer.next(v, -Math.abs(v), 0.3, i >= 50));
}

describe('RangeBreakout', () => {
  it('flags values beyond the seen range by the tolerance, then widens the range', () => {
    const r = new RangeBreakout(0.1);
    expect([0, 10, 11, 12.5, 13, -1.5, -0.5].map((v) => r.next(v))).toEqual([
      false,
      false,
      false, // within 10 + 0.1·10
      true, // beyond 11 + 1.1
      false, // the range is now [0, 12.5]
      true, // below 0 − 1.3
      false,
    ]);
    expect(r.getState()).toEqual({ min: -1.5, max: 13 });
    expect(r.next(Number.NaN)).toBe(false);
  });

  it('validates the tolerance and the state', () => {
    expect(() => new RangeBreakout(-0.1)).toThrow(InvalidOptionError);
    expect(() => new RangeBreakout(0).setState({ min: 2, max: 1 })).toThrow(SerializationError);
    expect(() => new RangeBreakout(0).setState({ min: null, max: 1 })).toThrow(SerializationError);
  });
});

describe('SeriesScorer', () => {
  it('passes the detector score through, scores a level shift to a new level 1, and is scale-free', () => {
    const a = run(series(1000, 1, 0, 700));
    expect(a.slice(0, 50).every((s) => s === 0)).toBe(true);
    expect(a[700]).toBe(1);
    expect(a.slice(100, 700).filter((s) => s === 1).length).toBeLessThanOrEqual(3);
    expect(a.filter((s) => s !== 1 && s !== 0).every((s) => s === 0.3)).toBe(true);
    // Same series in other units and offset: identical scores.
    expect(run(series(1000, 250, -1e4, 700))).toEqual(a);
  });

  it('with score likelihood, flags a planted spike in −log p and stays deterministic', () => {
    const o: SeriesScoringOptions = {
      ...PVALUE,
      score: 'likelihood',
      rangeTolerance: -1,
      learningEvents: 50,
    };
    const values = series(1500, 1, 0, Number.POSITIVE_INFINITY, 2).map((v, i) => (i === 1200 ? v + 40 : v));
    const s = run(values, o);
    expect(s[1200]!).toBeGreaterThan(0.5);
    expect(Math.max(...s.slice(400, 1200))).toBeLessThan(s[1200]!);
    expect(run(values, o)).toEqual(s);
  });

  it('round-trips its state', () => {
    const values = series(800, 1, 0, 600);
    const o: SeriesScoringOptions = { ...PVALUE, score: 'likelihood' };
    const whole = run(values, o);
    const first = new SeriesScorer(o);
    const head = values.slice(0, 400).map((v, i) => first.next(v, -Math.abs(v), 0.3, i >= 50));
    const second = new SeriesScorer(o);
    second.setState(JSON.parse(JSON.stringify(first.getState())));
    const tail = values.slice(400).map((v) => second.next(v, -Math.abs(v), 0.3, true));
    expect([...head, ...tail]).toEqual(whole);
  });

  it('validates its options', () => {
    expect(() => new SeriesScorer({ ...PVALUE, threshold: 1.5 })).toThrow(/threshold/);
    expect(() => new SeriesScorer({ ...PVALUE, rangeTolerance: Number.NaN })).toThrow(/rangeTolerance/);
    expect(() => new SeriesScorer({ ...PVALUE, score: 'likelihood', minStd: 0 })).toThrow(/minStd/);
  });
});
