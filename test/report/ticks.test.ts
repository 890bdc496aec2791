/** Tick values of log and symlog axes, and the thinning of series values for the NAB timelines. */
import { describe, expect, it } from 'vitest';
import { flagRuns } from '../../src/evaluate/tabular-report.js';
import { thinMinMax } from '../../src/report/series-charts.js';
import { finiteExtent, logTicks, symlogTicks } from '../../src/report/ticks.js';

describe('logTicks', () => {
  it('uses 1-2-5 per decade when it fits, sparser steps when not', () => {
    expect(logTicks(0.0005, 0.05)).toEqual([0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05]);
    expect(logTicks(0.001, 0.5, 8)).toEqual([0.001, 0.003, 0.01, 0.03, 0.1, 0.3]);
    expect(logTicks(1e-6, 1, 4)).toEqual([1e-6, 1e-4, 0.01, 1]);
  });

  it('fills a narrow range with 1…9 per decade', () => {
    expect(logTicks(0.12, 0.9)).toEqual([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  });

  it('is empty for ranges a log axis cannot show', () => {
    expect(logTicks(0, 1)).toEqual([]);
    expect(logTicks(1, 0.5)).toEqual([]);
  });
});

describe('symlogTicks', () => {
  it('gives a heavy-tailed score range 0 and 1-3 steps per decade, at least 16 px apart', () => {
    const ticks = symlogTicks(-3, 500, 220);
    expect(ticks).toEqual([-3, -1, 0, 1, 3, 10, 30, 100, 300]);
    const pos = (v: number) =>
      (Math.sign(v) * Math.log1p(Math.abs(v)) - -Math.log1p(3)) / (Math.log1p(500) + Math.log1p(3));
    for (let i = 1; i < ticks.length; i++) {
      expect(220 * (pos(ticks[i]!) - pos(ticks[i - 1]!))).toBeGreaterThanOrEqual(16);
    }
  });

  it('drops ±1 near 0 rather than crowd the labels on a wide range', () => {
    expect(symlogTicks(-10, 5000, 220)).toEqual([-10, 0, 10, 100, 1000]);
  });

  it('uses 1-2-5 on a short axis range and omits 0 when out of range', () => {
    expect(symlogTicks(-3, 5, 220)).toEqual([-2, -1, 0, 1, 2, 5]);
    expect(symlogTicks(-5, -1, 220)).toEqual([-5, -2, -1]);
  });
});

describe('finiteExtent', () => {
  it('ignores infinities and NaN, and falls back to [0, 1]', () => {
    expect(finiteExtent([3, Number.NEGATIVE_INFINITY, -2, Number.NaN])).toEqual([-2, 3]);
    expect(finiteExtent([Number.NaN])).toEqual([0, 1]);
  });
});

describe('thinMinMax', () => {
  it('keeps short series whole', () => {
    const pts = [1, 5, 2].map((value, x) => ({ x, value }));
    expect(thinMinMax(pts, 10)).toEqual(pts);
  });

  it('keeps each bucket’s lowest and highest value in time order, so the extent survives', () => {
    const pts = Array.from({ length: 1000 }, (_, x) => ({
      x,
      value: Math.sin(x / 7) * (x === 613 ? 50 : 1),
    }));
    const thin = thinMinMax(pts, 100);
    expect(thin.length).toBeLessThanOrEqual(100);
    expect(thin.map((p) => p.x)).toEqual([...thin.map((p) => p.x)].sort((a, b) => a - b));
    expect(Math.max(...thin.map((p) => p.value))).toBe(Math.max(...pts.map((p) => p.value)));
    expect(Math.min(...thin.map((p) => p.value))).toBe(Math.min(...pts.map((p) => p.value)));
  });
});

describe('flagRuns', () => {
  it('turns runs of flagged rows into bands half a row wide on each side', () => {
    expect(flagRuns([true, true, false, true, false, false, true])).toEqual([
      { start: -0.5, end: 1.5 },
      { start: 2.5, end: 3.5 },
      { start: 5.5, end: 6.5 },
    ]);
    expect(flagRuns([false, false])).toEqual([]);
  });
});
