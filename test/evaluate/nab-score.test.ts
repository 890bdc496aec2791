import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { InvalidOptionError } from '../../src/errors.js';
import {
  bestThreshold,
  NAB_PROFILES,
  type NabSeries,
  nabScore,
  probationLength,
  scaledSigmoid,
  scoreAtThreshold,
  scoreDetections,
  sweepCurve,
  sweepPoints,
} from '../../src/evaluate/nab-score.js';
import { scoreNabCorpus } from '../../src/evaluate/nab-scoring.js';

const STD = NAB_PROFILES.standard;
/** σ̃(−1) = 2/(1 + e^−5) − 1. */
const MAX_TP = 0.9866142981514305;

/** 100 points one minute apart, one window over points 50–59 (width 10); probation is points 0–14. */
function series(name = 'cat/a.csv', windows: [number, number][] = [[50, 59]]): NabSeries {
  const timestamps = Array.from({ length: 100 }, (_, i) => i * 60_000);
  return {
    name,
    timestamps,
    values: timestamps.map(() => 0),
    windows: windows.map(([a, b]) => [a * 60_000, b * 60_000] as const),
  };
}

/** Scores that are 0 except `hits` (index → score). */
function scores(hits: Record<number, number>, n = 100): number[] {
  return Array.from({ length: n }, (_, i) => hits[i] ?? 0);
}

/** Normalised standard score of one series with detections at `at` (score 1). */
function single(at: number[]): ReturnType<typeof nabScore> {
  return nabScore([series()], [scores(Object.fromEntries(at.map((i) => [i, 1])))], STD);
}

describe('NAB scaled sigmoid and probation', () => {
  it('matches the published values at the window edges', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(MAX_TP, 12);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-MAX_TP, 12);
    expect(scaledSigmoid(3)).toBe(-1);
  });

  it('probation is min(⌊0.15·n⌋, 750) points', () => {
    expect(probationLength(100)).toBe(15);
    expect(probationLength(4032)).toBe(604);
    expect(probationLength(22_695)).toBe(750);
    // The cap is percent · 5000 (NAB's own test cases).
    expect(probationLength(5000, 0.1)).toBe(500);
    expect(probationLength(6000, 0.1)).toBe(500);
  });
});

describe('NAB scoring on hand-built windows', () => {
  it('a detection at the window start earns the full TP weight: 100', () => {
    expect(single([50])).toMatchObject({ raw: 1, nullScore: -1, perfectScore: 1, normalised: 100 });
  });

  it('a detection at the window end earns σ̃(−1/10)/σ̃(−1) ≈ 0.2482', () => {
    const r = single([59]);
    expect(r.raw).toBeCloseTo(0.24824154977542992, 12);
    expect(r.normalised).toBeCloseTo(62.4120774887715, 10);
    // Only the earliest detection of a window counts.
    expect(single([55, 59]).raw).toBeCloseTo(0.8597925669097837, 12);
  });

  it('a detection outside any window is a false positive and the window a miss', () => {
    const pts = sweepPoints(series(), scores({}), STD);
    // Before the first window: the full FP weight.
    expect(scoreDetections(pts, (_, i) => i === 20, STD)).toEqual({ raw: -1.11, tp: 0, fp: 1, fn: 1 });
    // Right after a window: milder, σ̃(|60 − 59| / (10 − 1)) · 0.11.
    expect(scoreDetections(pts, (_, i) => i === 60, STD).raw).toBeCloseTo(-1 - 0.029793183036839352, 12);
    expect(scoreDetections(pts, (_, i) => i === 70, STD).raw).toBeCloseTo(-1 - 0.10951310130369775, 12);
    // Three window widths or more after it: the full weight again.
    expect(scoreDetections(pts, (_, i) => i === 86, STD).raw).toBeCloseTo(-1.11, 12);
    // reward_low_FP doubles the FP cost.
    const low = sweepPoints(series(), scores({}), NAB_PROFILES.reward_low_FP);
    expect(scoreDetections(low, (_, i) => i === 60, NAB_PROFILES.reward_low_FP).raw).toBeCloseTo(
      -1 - 0.059586366073678704,
      12,
    );
  });

  it('no detection at all scores the null detector: 0 (FN weight per window)', () => {
    const r = single([]);
    expect(r).toMatchObject({ raw: -1, nullScore: -1, normalised: 0 });
    expect(nabScore([series()], [scores({})], NAB_PROFILES.reward_low_FN)).toMatchObject({
      raw: -2,
      nullScore: -2,
    });
  });

  it('ignores detections in the probation period and windows inside it', () => {
    expect(single([5]).normalised).toBe(0);
    expect(sweepPoints(series(), scores({}), STD)[14]!.window).toBe('probationary');
    expect(sweepPoints(series(), scores({}), STD)[15]!.window).toBeNull();
    // A window inside probation cannot be scored: the null detector is not charged for it, yet the
    // perfect score counts it (NAB normalises by every labelled window), so the best possible is 50.
    const early = series('cat/early.csv', [
      [2, 8],
      [50, 59],
    ]);
    const r = nabScore([early], [scores({ 3: 1, 50: 1 })], STD);
    expect(r).toMatchObject({ raw: 1, nullScore: -1, perfectScore: 2 });
    expect(r.normalised).toBeCloseTo(200 / 3, 10);
  });

  it('normalises over series: null 0, perfect 100, one of two windows found 50', () => {
    const r = nabScore([series('x/a.csv'), series('x/b.csv')], [scores({ 50: 1 }), scores({})], STD);
    expect(r).toMatchObject({ nullScore: -2, perfectScore: 2, raw: -0 + 1 - 1 });
    expect(r.normalised).toBeCloseTo(50, 10);
  });

  it('rejects windows without points and scores of the wrong length', () => {
    expect(() => sweepPoints(series('c/x.csv', [[200, 300]]), scores({}), STD)).toThrow(/no point/);
    expect(() => sweepPoints(series(), scores({}, 99), STD)).toThrow(InvalidOptionError);
  });
});

describe('NAB threshold sweep', () => {
  it('one threshold for the corpus: an FP above the TP is worth taking, twenty are not', () => {
    const one = nabScore([series()], [scores({ 20: 0.9, 50: 0.8 })], STD);
    expect(one.threshold).toBe(0.8);
    expect(one.raw).toBeCloseTo(1 - 0.11, 12);
    const many: Record<number, number> = { 50: 0.8 };
    for (let i = 20; i < 40; i++) many[i] = 0.9;
    const r = nabScore([series()], [scores(many)], STD);
    expect(r).toMatchObject({ raw: -1, threshold: 1.1 });
    // reward_low_FN doubles the cost of the miss, so the same detections pay off there.
    expect(nabScore([series()], [scores(many)], NAB_PROFILES.reward_low_FN).raw).toBeCloseTo(1 - 2.2, 12);
  });

  it("reproduces the score-by-threshold table of NAB's own sweeper test", () => {
    const profile = { tpWeight: 1, fpWeight: 1, fnWeight: 5 };
    const pts = [
      { anomalyScore: 0.5, sweepScore: -1000, window: 'probationary' },
      { anomalyScore: 0.5, sweepScore: -1000, window: 'probationary' },
      { anomalyScore: 0.0, sweepScore: -3, window: null },
      { anomalyScore: 0.2, sweepScore: 20, window: 'A' },
      { anomalyScore: 0.3, sweepScore: 10, window: 'A' },
      { anomalyScore: 0.5, sweepScore: 5, window: 'B' },
      { anomalyScore: 0.5, sweepScore: -3, window: null },
    ];
    expect(sweepCurve(pts, profile)).toEqual([
      { threshold: 1.1, score: -10 },
      { threshold: 0.5, score: 5 - 3 - 5 },
      { threshold: 0.3, score: 5 - 3 + 10 },
      { threshold: 0.2, score: 5 - 3 + 20 },
      { threshold: 0, score: 5 - 3 + 20 - 3 },
    ]);
    expect(bestThreshold(pts, profile)).toEqual({ threshold: 0.2, score: 22 });
  });

  it('evaluates tied scores together', () => {
    const pts = sweepPoints(series(), scores({ 52: 0.7, 58: 0.7, 30: 0.7 }), STD);
    const r = bestThreshold(pts, STD);
    expect(r.threshold).toBe(0.7);
    expect(r.score).toBeCloseTo(pts[52]!.sweepScore - 0.11, 12);
    expect(sweepCurve(pts, STD).map((row) => row.threshold)).toEqual([1.1, 0.7, 0]);
  });

  it('the optimised score is the best over thresholds and never below the fixed one', () => {
    const rng = createRng(11);
    const corpus = [
      series('a/1.csv'),
      series('a/2.csv', [
        [30, 39],
        [70, 79],
      ]),
      series('b/3.csv', []),
    ];
    const s = corpus.map(() => Array.from({ length: 100 }, () => rng.uniform()));
    for (const profile of Object.values(NAB_PROFILES)) {
      const pts = corpus.flatMap((c, i) => sweepPoints(c, s[i]!, profile));
      const best = bestThreshold(pts, profile);
      expect(scoreAtThreshold(pts, profile, best.threshold).raw).toBeCloseTo(best.score, 10);
      for (let t = 0; t <= 1.0001; t += 0.05) {
        expect(scoreAtThreshold(pts, profile, t).raw).toBeLessThanOrEqual(best.score + 1e-12);
      }
    }
    // Fixed detections at the anomaly-score level 0.6, as the detector's threshold would give.
    const detections = s.map((row) => row.map((v) => v >= 0.6));
    const scoring = scoreNabCorpus(corpus, s, detections);
    for (const p of Object.values(scoring)) {
      expect(p.optimised.total.normalised).toBeGreaterThanOrEqual(p.fixed.total.normalised);
      // Category and series scores add up to the total.
      const cats = Object.values(p.fixed.categories);
      expect(cats.reduce((a, c) => a + c.raw, 0)).toBeCloseTo(p.fixed.total.raw, 10);
      expect(cats.reduce((a, c) => a + c.nullScore, 0)).toBeCloseTo(p.fixed.total.nullScore, 10);
      expect(Object.values(p.optimised.series).reduce((a, c) => a + c.raw, 0)).toBeCloseTo(
        p.optimised.total.raw,
        10,
      );
    }
    expect(scoring.standard.optimised.series['b/3.csv']!.normalised).toBeNaN();
    expect(scoring.standard.optimised.categories.a!.perfectScore).toBe(3);
  });
});
