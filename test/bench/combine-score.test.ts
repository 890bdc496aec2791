import { describe, expect, it } from 'vitest';
import { CombinedScorer, combinePValues, combineScoreProblems } from '../../bench/lib/combine-score.js';
import { createRng } from '../../src/core/rng.js';
import { SurpriseScorer } from '../../src/detector/timeseries/surprise-score.js';

const OPTIONS = { rule: 'sidak', window: 200, minHistory: 20, rangeTolerance: -1 } as const;

describe('combinePValues', () => {
  it('sidak: the smaller p-value corrected for two looks', () => {
    expect(combinePValues('sidak', 0.01, 0.5)).toBeCloseTo(1 - 0.99 ** 2, 12);
    expect(combinePValues('sidak', 1, 1)).toBe(1);
  });

  it('fisher: the chi-square(4) tail of -2 ln(a b)', () => {
    const a = 0.02;
    const b = 0.3;
    const x = -2 * Math.log(a * b);
    expect(combinePValues('fisher', a, b)).toBeCloseTo(Math.exp(-x / 2) * (1 + x / 2), 12);
    expect(combinePValues('fisher', 1, 1)).toBe(1);
    // two moderate p-values together are stronger evidence than either alone
    expect(combinePValues('fisher', 0.01, 0.01)).toBeLessThan(0.01);
  });

  it('mean: small only when both are', () => {
    expect(combinePValues('mean', 0.001, 0.5)).toBeCloseTo(0.2505, 12);
    expect(combinePValues('mean', 0.001, 0.001)).toBeCloseTo(0.001, 12);
  });

  it('every rule is monotone in each p-value and stays in [0, 1]', () => {
    const rng = createRng(5);
    for (const rule of ['sidak', 'fisher', 'mean'] as const) {
      for (let i = 0; i < 200; i++) {
        const a = rng.uniform() + 1e-9;
        const b = rng.uniform() + 1e-9;
        const p = combinePValues(rule, a, b);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
        expect(combinePValues(rule, Math.min(1, a * 1.5), b)).toBeGreaterThanOrEqual(p);
      }
    }
  });
});

describe('CombinedScorer', () => {
  it('rejects bad options with what is wrong', () => {
    expect(combineScoreProblems({ ...OPTIONS, rule: 'max' as never })).toEqual([
      'rule must be one of sidak, fisher, mean, got max',
    ]);
    expect(() => new CombinedScorer({ ...OPTIONS, minHistory: 300 })).toThrow(/minHistory/);
    expect(() => new CombinedScorer({ ...OPTIONS, kinds: ['surprise', 'odds' as never] })).toThrow(/kinds/);
  });

  it('scores a point surprising to either model; a model warming (NaN) gives no evidence', () => {
    const rng = createRng(7);
    const s = new CombinedScorer(OPTIONS);
    for (let i = 0; i < 150; i++) s.next(0, rng.normal(), rng.normal());
    const quiet = s.next(0, 0, 0);
    const onlyA = s.next(0, 9, 0);
    const onlyB = s.next(0, 0, 9);
    expect(quiet).toBeLessThan(0.9);
    expect(onlyA).toBeGreaterThan(0.98);
    expect(onlyB).toBeGreaterThan(0.98);
    expect(s.next(0, 12, Number.NaN)).toBeGreaterThan(0.98);
    expect(s.next(0, Number.NaN, Number.NaN)).toBe(0);
  });

  it("takes a model's p-value as given with kind 'pvalue'", () => {
    const s = new CombinedScorer({ ...OPTIONS, rule: 'fisher', kinds: ['pvalue', 'pvalue'] });
    expect(s.next(0, 0.01, 0.5)).toBeCloseTo(1 - combinePValues('fisher', 0.01, 0.5), 12);
    expect(s.next(0, Number.NaN, 0.5)).toBeCloseTo(1 - combinePValues('fisher', 1, 0.5), 12);
  });

  it("averages a model's surprises as SurpriseScorer does", () => {
    const rng = createRng(3);
    const combined = new CombinedScorer({ ...OPTIONS, kinds: ['surprise', 'pvalue'], averages: [5, 1] });
    const single = new SurpriseScorer({ ...OPTIONS, score: 'pvalue', average: 5 });
    for (let i = 0; i < 300; i++) {
      const u = i % 50 === 49 ? 6 : rng.normal() ** 2;
      const pa = 1 - single.next(0, u);
      expect(1 - combined.next(0, u, 1)).toBeCloseTo(pa * (2 - pa), 12);
    }
    expect(() => new CombinedScorer({ ...OPTIONS, averages: [0, 1] })).toThrow(/averages/);
  });

  it('raises the score to 1 on a range breakout', () => {
    const s = new CombinedScorer({ ...OPTIONS, kinds: ['pvalue', 'pvalue'], rangeTolerance: 0 });
    for (let i = 0; i < 10; i++) s.next(i % 2, 0.5, 0.5);
    expect(s.next(5, 0.5, 0.5)).toBe(1);
    expect(s.next(0.5, 0.5, 0.5)).toBeCloseTo(0.25, 12);
  });

  it('is deterministic for a seeded input', () => {
    const run = () => {
      const rng = createRng(9);
      const s = new CombinedScorer({ ...OPTIONS, rule: 'fisher' });
      return Array.from({ length: 400 }, () => s.next(rng.normal(), rng.normal() ** 2, rng.normal() ** 2));
    };
    expect(run()).toEqual(run());
  });
});
