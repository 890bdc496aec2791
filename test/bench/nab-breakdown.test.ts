import { describe, expect, it } from 'vitest';
import { groupLosses, seriesLoss } from '../../bench/lib/nab-breakdown.js';
import { NAB_PROFILES, type NabSeries } from '../../src/evaluate/nab-score.js';

const STEP = 60_000;
const profile = NAB_PROFILES.standard;

/** A flat series of 1000 points (probation: the first 150) with windows at the given index ranges. */
function seriesOf(name: string, windows: readonly (readonly [number, number])[]): NabSeries {
  const timestamps = Array.from({ length: 1000 }, (_, i) => i * STEP);
  return {
    name,
    timestamps,
    values: timestamps.map(() => 0),
    windows: windows.map(([a, b]) => [a * STEP, b * STEP] as const),
  };
}

const flags = (at: readonly number[]): boolean[] => Array.from({ length: 1000 }, (_, i) => at.includes(i));

describe('seriesLoss', () => {
  it('splits the loss into late detections, missed windows and false positives', () => {
    const s = seriesOf('cat/a.csv', [
      [400, 499],
      [700, 799],
    ]);
    // 400: first point of window 1 (full credit); 420 ignored (not first); 290 and 380: false positives,
    // 380 within one width before window 1; window 2 missed; 100 is in probation (not counted).
    const l = seriesLoss(s, flags([100, 290, 380, 400, 420]), profile);
    expect(l).toMatchObject({ windows: 2, found: 1, missed: 1, fp: 2, fpBefore: 1 });
    expect(l.lateLoss).toBeCloseTo(0, 10);
    expect(l.fpCost).toBeCloseTo(2 * profile.fpWeight, 10);
    expect(l.positions).toEqual([0]);
    expect(l.missedBest).toEqual([0]);
  });

  it("reports a missed window's best score before suppression", () => {
    const raw = Array.from({ length: 1000 }, (_, i) => (i === 450 ? 0.99 : i === 300 ? 0.999 : 0));
    const l = seriesLoss(seriesOf('cat/c.csv', [[400, 499]]), flags([]), profile, raw);
    expect(l.missedBest).toEqual([0.99]);
    expect(l.missedAt).toEqual([400]);
  });

  it('charges a detection at the end of a window almost its whole credit', () => {
    const l = seriesLoss(seriesOf('cat/b.csv', [[400, 499]]), flags([499]), profile);
    expect(l.found).toBe(1);
    expect(l.lateLoss).toBeGreaterThan(0.9);
    expect(l.positions).toEqual([1]);
  });
});

describe('groupLosses', () => {
  it('gives per-category and total losses whose complement is the normalised score', () => {
    const a = seriesLoss(seriesOf('x/a.csv', [[400, 499]]), flags([400]), profile);
    const b = seriesLoss(seriesOf('y/b.csv', [[400, 499]]), flags([300]), profile);
    const [x, y, all] = groupLosses([a, b], profile);
    expect(x).toMatchObject({ group: 'x', windows: 1, found: 1, missed: 0 });
    expect(100 - x!.late - x!.miss - x!.fpLoss).toBeCloseTo(100, 10);
    // y: the window missed (−1 against the null detector's −1 → 0) and one full false positive.
    expect(y!.miss).toBeCloseTo(100, 10);
    expect(100 - y!.late - y!.miss - y!.fpLoss).toBeCloseTo((-100 * profile.fpWeight) / 2, 10);
    expect(all).toMatchObject({ group: 'all', windows: 2, found: 1, missed: 1, fp: 1 });
  });
});
