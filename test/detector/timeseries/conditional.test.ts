import { describe, expect, it } from 'vitest';
import { createRng } from '../../../src/core/rng.js';
import {
  ConditionalSurprise,
  DEFAULT_CONDITIONAL_OPTIONS,
} from '../../../src/detector/timeseries/conditional.js';
import { SeriesContext } from '../../../src/detector/timeseries/context.js';
import { MixtureDensityNet } from '../../../src/detector/timeseries/mdn.js';
import { SurprisePValue, SurpriseScorer } from '../../../src/detector/timeseries/surprise-score.js';

const MDN = { inputs: 1, hidden: 8, components: 2, learningRate: 0.01, clipNorm: 5 };

/** y = 2c + N(0, 0.1²), c uniform in [−1, 1]. */
function linearData(n: number, seed: number): { c: Float64Array[]; y: number[] } {
  const rng = createRng(seed);
  const c: Float64Array[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = 2 * rng.uniform() - 1;
    c.push(Float64Array.of(x));
    y.push(2 * x + 0.1 * rng.normal());
  }
  return { c, y };
}

/** A seeded AR(1) series with one spike at `spikeAt`. */
function series(n: number, spikeAt: number): { value: number; timestamp: number; key: null }[] {
  const rng = createRng(11);
  let x = 0;
  return Array.from({ length: n }, (_, i) => {
    x = 0.8 * x + rng.normal();
    return { key: null, value: 100 + x + (i === spikeAt ? 25 : 0), timestamp: i * 300_000 };
  });
}

function surprises(points: readonly { value: number; timestamp: number; key: null }[]): number[] {
  const model = new ConditionalSurprise({ ...DEFAULT_CONDITIONAL_OPTIONS, warmup: 200 });
  const out: number[] = [];
  for (let s = 0; s < points.length; s += 32) out.push(...model.process(points.slice(s, s + 32)));
  return out;
}

describe('MixtureDensityNet', () => {
  it('learns a conditional density: likely where y follows c, unlikely elsewhere', () => {
    const net = new MixtureDensityNet(MDN, createRng(1));
    const { c, y } = linearData(1000, 2);
    const rng = createRng(3);
    for (let s = 0; s < 1500; s++) {
      net.step(
        c,
        y,
        Array.from({ length: 32 }, () => Math.floor(rng.uniform() * c.length)),
      );
    }
    const at = (x: number, v: number): number => net.logProb(Float64Array.of(x), v);
    expect(at(0.5, 1)).toBeGreaterThan(0);
    expect(at(0.5, 1) - at(0.5, -1)).toBeGreaterThan(20);
    expect(at(-0.5, -1) - at(-0.5, 1)).toBeGreaterThan(20);
  });

  it('is deterministic for a seed', () => {
    const { c, y } = linearData(100, 4);
    const run = (): Float64Array => {
      const net = new MixtureDensityNet(MDN, createRng(5));
      for (let s = 0; s < 20; s++) net.step(c, y, [s, s + 1, s + 2]);
      return net.params;
    };
    expect([...run()]).toEqual([...run()]);
  });

  it('rejects bad options with a message saying what is wrong', () => {
    expect(() => new MixtureDensityNet({ ...MDN, hidden: 0 }, createRng(1))).toThrow(/hidden must be/);
  });
});

describe('ConditionalSurprise', () => {
  const points = series(1500, 1000);
  const u = surprises(points);

  it('reports NaN while warming and a finite surprise after', () => {
    expect(u.slice(0, 200).every(Number.isNaN)).toBe(true);
    expect(u.slice(200).every(Number.isFinite)).toBe(true);
  });

  it('is most surprised by the spike, and counts it once: the values after it are ordinary again', () => {
    const scored = u.slice(200);
    expect(Math.max(...scored)).toBe(u[1000]);
    const sorted = [...scored].sort((a, b) => a - b);
    const q99 = sorted[Math.floor(0.99 * sorted.length)]!;
    for (let i = 1002; i < 1000 + DEFAULT_CONDITIONAL_OPTIONS.lags + 2; i++) expect(u[i]).toBeLessThan(q99);
  });

  it('gives identical surprises on two runs', () => {
    expect(surprises(points)).toEqual(u);
  });
});

describe('SurprisePValue', () => {
  it('is the share of the recent surprises at or above, (n + 1)-corrected', () => {
    const p = new SurprisePValue(100, 10);
    for (let i = 1; i <= 100; i++) p.next(i);
    expect(Math.exp(p.next(50.5))).toBeCloseTo(51 / 101, 10);
  });

  it('does not learn flagged surprises beyond the tail budget, so an episode is judged against normal history', () => {
    const p = new SurprisePValue(2000, 10);
    for (let i = 0; i < 300; i++) p.next(((i * 7919) % 300) + 1); // a permutation of 1…300
    // Each new maximum has p = 1/(n + 1) < 0.005: the budget (1.9 after 300 values) admits one.
    expect(Math.exp(p.next(5000))).toBeCloseTo(1 / 301, 10);
    expect(Math.exp(p.next(6000))).toBeCloseTo(1 / 302, 10);
    expect(Math.exp(p.next(7000))).toBeCloseTo(1 / 302, 10);
    // A lasting new level stops being extreme once a few of its values are in (then p ≥ 0.005).
    let last = 0;
    for (let i = 0; i < 1000; i++) last = p.next(8000);
    expect(Math.exp(last)).toBeGreaterThan(0.5);
  });

  it("with tail 'exponential', scores a surprise beyond every recent one by how far beyond it lies", () => {
    const rank = new SurprisePValue(2000, 10);
    const tail = new SurprisePValue(2000, 10, { tail: 'exponential' });
    for (let i = 0; i < 100; i++) {
      const u = ((i * 37) % 100) / 10; // a permutation of 0, 0.1, …, 9.9
      expect(tail.next(u)).toBe(rank.next(u)); // within the history: the rank
    }
    // Top k = 10 surprises 9.0…9.9: t = 9.0, mean excess 0.5 → p = 10/101 · e^{−(u − 9)/0.5}.
    const far = 9 + 0.5 * Math.log(1e4);
    expect(rank.next(far)).toBeCloseTo(Math.log(1 / 101), 10); // capped at 1/(n + 1)
    expect(tail.next(far)).toBeCloseTo(Math.log(10 / 101) - Math.log(1e4), 10);
    // Just above the largest, the tail's p exceeds 1/(n + 1): the smaller one, the rank, applies.
    const near = new SurprisePValue(2000, 10, { tail: 'exponential' });
    for (let i = 0; i < 100; i++) near.next(((i * 37) % 100) / 10);
    expect(near.next(9.95)).toBeCloseTo(Math.log(1 / 101), 10);
  });

  it('with flaggedBudget false, learns flagged surprises too, so a repeat is no longer extreme', () => {
    const budget = new SurprisePValue(2000, 10);
    const all = new SurprisePValue(2000, 10, { flaggedBudget: false });
    for (let i = 0; i < 300; i++) {
      budget.next(((i * 7919) % 300) + 1);
      all.next(((i * 7919) % 300) + 1);
    }
    for (const u of [5000, 6000, 7000]) {
      budget.next(u);
      all.next(u);
    }
    // Budget: only 5000 was learned; learning all: 5000, 6000 and 7000 are in the history.
    expect(Math.exp(budget.next(5500))).toBeCloseTo(1 / 302, 10);
    expect(Math.exp(all.next(5500))).toBeCloseTo(3 / 304, 10);
  });

  it("with record 'full', scores a record in a short history as a record among a full window", () => {
    const rank = new SurprisePValue(2000, 10);
    const full = new SurprisePValue(2000, 10, { record: 'full' });
    for (let i = 0; i < 100; i++) {
      const u = ((i * 37) % 100) / 10; // a permutation of 0, 0.1, …, 9.9
      const r = rank.next(u);
      // A new maximum after minHistory values is a record: 1/(window + 1); anything else keeps its rank.
      if (i >= 10 && u > Math.max(...Array.from({ length: i }, (_, j) => ((j * 37) % 100) / 10)))
        expect(full.next(u)).toBeCloseTo(-Math.log(2001), 10);
      else expect(full.next(u)).toBe(r);
    }
    expect(rank.next(9.95)).toBeCloseTo(Math.log(1 / 101), 10); // the rank alone caps 1 − p at 100/101
    expect(full.next(9.95)).toBeCloseTo(Math.log(1 / 2001), 10); // reaches any threshold up to 2000/2001
    expect(full.next(9.9)).toBeCloseTo(rank.next(9.9), 10); // a tie with the maximum is no record
    // Only the score changes: 9.95 was learned by both (its rank p 1/101 ≥ 0.005), so they agree again.
    expect(full.next(9.92)).toBe(rank.next(9.92));
  });

  it("with record 'margin', a record counts only when it clears the maximum by the interquartile range", () => {
    const margin = new SurprisePValue(2000, 10, { record: 'margin' });
    for (let i = 0; i < 100; i++) margin.next(((i * 37) % 100) / 10);
    // History 0…9.9: interquartile range sorted[74] − sorted[24] = 7.4 − 2.4 = 5.
    expect(margin.next(9.9 + 4.9)).toBeCloseTo(Math.log(1 / 101), 10); // a record by less: the rank
    const again = new SurprisePValue(2000, 10, { record: 'margin' });
    for (let i = 0; i < 100; i++) again.next(((i * 37) % 100) / 10);
    expect(again.next(9.9 + 5)).toBeCloseTo(-Math.log(2001), 10);
  });

  it('rejects unknown tail, flaggedBudget and record values with a message', () => {
    const base = { score: 'pvalue', window: 50, minHistory: 5, average: 1, rangeTolerance: 0 } as const;
    expect(() => new SurpriseScorer({ ...base, tail: 'gpd' as 'none' })).toThrow(
      /tail must be 'none' or 'exponential'/,
    );
    expect(() => new SurpriseScorer({ ...base, flaggedBudget: 1 as unknown as boolean })).toThrow(
      /flaggedBudget must be a boolean/,
    );
    expect(() => new SurpriseScorer({ ...base, record: 'max' as 'full' })).toThrow(
      /record must be 'rank', 'full' or 'margin'/,
    );
  });

  it('scores 0 (log p) until the history holds minHistory surprises', () => {
    const p = new SurprisePValue(100, 10);
    for (let i = 0; i < 10; i++) expect(p.next(i)).toBe(0);
    expect(p.next(1000)).toBeLessThan(0);
  });
});

describe('SurpriseScorer', () => {
  it('raises a range breakout to 1 and scores warming points 0', () => {
    const s = new SurpriseScorer({
      score: 'pvalue',
      window: 50,
      minHistory: 5,
      average: 1,
      rangeTolerance: 0.1,
    });
    expect(s.next(1, Number.NaN)).toBe(0);
    for (let i = 0; i < 20; i++) s.next(i % 5, 1 + (i % 3));
    expect(s.next(2, 2)).toBeLessThan(0.9);
    expect(s.next(100, 0)).toBe(1);
  });
});

describe('SeriesContext daily context', () => {
  it('adds the step one day earlier and the change over a day, once a day of history exists', () => {
    const ctx = new SeriesContext({
      lags: 2,
      slowAlpha: 0.01,
      fastAlpha: 0.1,
      timeOfDay: false,
      daily: true,
    });
    const day = 24; // hourly points
    let last: Float64Array | null = null;
    for (let i = 0; i < 3 * day; i++) {
      const value = 10 * Math.sin((2 * Math.PI * i) / day);
      last = ctx.next(value, i * 3_600_000).context;
    }
    // lags 2 + level + fast + 2 daily entries; a periodic series changes nothing over a day.
    expect(last).toHaveLength(6);
    expect(last![5]).toBeCloseTo(0, 9);
    expect(last![4]).not.toBe(0);
  });
});

describe('SeriesContext longer scales', () => {
  it('appends the change over each scale in level units, 0 until that much history exists', () => {
    const ctx = new SeriesContext({
      lags: 2,
      slowAlpha: 0.01,
      fastAlpha: 0.1,
      timeOfDay: false,
      scales: [5, 20],
    });
    const contexts: Float64Array[] = [];
    for (let i = 0; i < 30; i++) {
      const c = ctx.next(i, i * 60_000).context;
      if (c !== null) contexts.push(c);
    }
    // lags 2 + level + fast + 2 scales; a ramp's change over s points is s steps.
    const first = contexts[0]!;
    const last = contexts[contexts.length - 1]!;
    expect(last).toHaveLength(6);
    expect(first[4]).toBe(0);
    expect(first[5]).toBe(0);
    expect(last[4]).toBeGreaterThan(0);
    expect(last[5]! / last[4]!).toBeCloseTo(4, 9);
  });

  it('rejects a scale beyond the kept history', () => {
    expect(() => new ConditionalSurprise({ ...DEFAULT_CONDITIONAL_OPTIONS, scales: [0] })).toThrow(/scales/);
  });
});
