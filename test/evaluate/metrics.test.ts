import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import {
  averagePrecision,
  classification,
  rocAuc,
  thinCurve,
  thresholdCurve,
  timeToFirstAlert,
} from '../../src/evaluate/metrics.js';

const T = true;
const F = false;

describe('rocAuc', () => {
  it('matches the hand-computed pair count', () => {
    // Pairs (anomaly, normal): (0.35, 0.1) win, (0.35, 0.4) loss, (0.8, ·) two wins → 3/4.
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [F, F, T, T])).toBeCloseTo(0.75, 12);
  });

  it('counts a tie between an anomaly and a normal event as one half', () => {
    // (0.5 vs 0.5) = ½, (0.5 vs 0.2) = 1, (0.9 vs ·) = 2 → 3.5/4.
    expect(rocAuc([0.5, 0.5, 0.2, 0.9], [T, F, F, T])).toBeCloseTo(0.875, 12);
    // All scores equal (e.g. every event warming at −∞): chance, not 0 or 1.
    const inf = Number.NEGATIVE_INFINITY;
    expect(rocAuc([inf, inf, inf, inf], [T, F, F, T])).toBeCloseTo(0.5, 12);
  });

  it('is 1 for a perfect ranking, 0 for an inverted one, NaN without both classes', () => {
    expect(rocAuc([1, 2, 3, 4], [F, F, T, T])).toBe(1);
    expect(rocAuc([4, 3, 2, 1], [F, F, T, T])).toBe(0);
    expect(rocAuc([1, 2], [F, F])).toBeNaN();
    expect(() => rocAuc([1, Number.NaN], [T, F])).toThrow(InvalidOptionError);
    expect(() => rocAuc([1], [T, F])).toThrow(InvalidOptionError);
  });
});

describe('averagePrecision', () => {
  it('sums (ΔR)·P over thresholds, as scikit-learn', () => {
    // 0.8: P 1, R ½ → ½; 0.4: R unchanged; 0.35: P ⅔, R 1 → ½·⅔. Total 5/6.
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [F, F, T, T])).toBeCloseTo(5 / 6, 12);
  });

  it('lets tied scores enter together', () => {
    // 0.9: P 1, R ½ → ½; 0.5 (one anomaly, one normal): P ⅔, R 1 → ⅓. Total 5/6.
    expect(averagePrecision([0.5, 0.5, 0.2, 0.9], [T, F, F, T])).toBeCloseTo(5 / 6, 12);
    expect(averagePrecision([1, 2], [F, F])).toBeNaN();
  });

  it('exposes the curve it integrates', () => {
    const curve = thresholdCurve([0.5, 0.5, 0.2, 0.9], [T, F, F, T]);
    expect(curve.map((p) => [p.threshold, p.tp, p.fp])).toEqual([
      [0.9, 1, 0],
      [0.5, 2, 1],
      [0.2, 2, 2],
    ]);
    expect(curve[1]).toMatchObject({ recall: 1, fpr: 0.5 });
    expect(curve[1]!.precision).toBeCloseTo(2 / 3, 12);
  });
});

describe('classification', () => {
  it('counts the confusion matrix and derives precision, recall and F1', () => {
    const c = classification([T, T, F, F, T], [T, F, T, F, T]);
    expect(c).toMatchObject({ tp: 2, fp: 1, fn: 1, tn: 1 });
    expect(c.precision).toBeCloseTo(2 / 3, 12);
    expect(c.recall).toBeCloseTo(2 / 3, 12);
    expect(c.f1).toBeCloseTo(2 / 3, 12);
  });

  it('reports NaN precision when nothing is flagged and F1 0 when anomalies are missed', () => {
    const c = classification([F, F], [T, F]);
    expect(c.precision).toBeNaN();
    expect(c.recall).toBe(0);
    expect(c.f1).toBe(0);
  });
});

describe('timeToFirstAlert', () => {
  it('measures each anomaly run from its start to its first flagged event', () => {
    const labels = [F, T, T, T, F, F, T, F, T, T];
    const flagged = [F, F, F, T, F, T, F, F, T, F];
    const t = timeToFirstAlert(flagged, labels);
    expect(t.perRun).toEqual([
      { start: 1, length: 3, delay: 2 },
      // The flag at 5 comes before this run and the run itself is not flagged: missed.
      { start: 6, length: 1, delay: null },
      { start: 8, length: 2, delay: 0 },
    ]);
    expect(t).toMatchObject({ runs: 3, detected: 2, missed: 1, mean: 1, median: 1, max: 2 });
  });

  it('has no delays without detections', () => {
    const t = timeToFirstAlert([F, F], [T, F]);
    expect(t).toMatchObject({ runs: 1, detected: 0, missed: 1 });
    expect(t.median).toBeNaN();
  });
});

describe('thinCurve', () => {
  it('keeps the ends and at most max points', () => {
    const pts = Array.from({ length: 101 }, (_, i) => i);
    const thin = thinCurve(pts, 11);
    expect(thin).toHaveLength(11);
    expect(thin[0]).toBe(0);
    expect(thin.at(-1)).toBe(100);
    expect(thinCurve([1, 2], 11)).toEqual([1, 2]);
  });
});
