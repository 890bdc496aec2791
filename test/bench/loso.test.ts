import { describe, expect, it } from 'vitest';
import { bestPerSet, chooseOn, type LosoScores, losoFolds, worstRegret } from '../../bench/lib/loso.js';

/** `steady` is never far behind; `spiky` wins a and b but loses c badly. */
const steady: LosoScores = { name: 'steady', knobs: 1, auc: { a: 0.9, b: 0.8, c: 0.7 } };
const spiky: LosoScores = { name: 'spiky', knobs: 1, auc: { a: 0.95, b: 0.85, c: 0.5 } };
const base: LosoScores = { name: 'base', knobs: 0, auc: { a: 0.9, b: 0.8, c: 0.7 } };

describe('leave-one-set-out selection', () => {
  it('measures regret against the best candidate on each set', () => {
    const best = bestPerSet([steady, spiky]);
    expect(best).toEqual({ a: 0.95, b: 0.85, c: 0.7 });
    expect(worstRegret(steady, ['a', 'b', 'c'], best)).toBeCloseTo(-0.05, 12);
    expect(worstRegret(spiky, ['a', 'b', 'c'], best)).toBeCloseTo(-0.2, 12);
  });

  it('chooses by the worst regret, not the mean, and breaks ties by fewer knobs', () => {
    expect(chooseOn([spiky, steady], ['a', 'b', 'c']).chosen.name).toBe('steady');
    expect(chooseOn([spiky, steady], ['a', 'b']).chosen.name).toBe('spiky');
    expect(chooseOn([steady, base], ['a', 'b', 'c']).chosen.name).toBe('base');
  });

  it('scores each fold on the set it did not choose on', () => {
    const folds = losoFolds([spiky, steady]);
    expect(folds.map((f) => [f.heldOut, f.chosen])).toEqual([
      ['a', 'steady'],
      ['b', 'steady'],
      ['c', 'spiky'],
    ]);
    const c = folds[2]!;
    expect(c.heldOutAuc).toBe(0.5);
    expect(c.heldOutRegret).toBeCloseTo(-0.2, 12);
  });

  it('refuses fewer than two sets', () => {
    expect(() => losoFolds([{ name: 'x', knobs: 0, auc: { a: 1 } }])).toThrow(/at least 2 sets/);
  });
});

describe('leave-one-set-out against the peers', () => {
  it('measures regret against each candidate its own reference when it has one', () => {
    const early: LosoScores = { ...spiky, name: 'early', reference: { a: 0.96, b: 0.8, c: 0.45 } };
    const late: LosoScores = { ...steady, name: 'late', reference: { a: 0.9, b: 0.8, c: 0.7 } };
    const best = bestPerSet([early, late]);
    expect(worstRegret(early, ['a', 'b', 'c'], best)).toBeCloseTo(-0.01, 12);
    expect(worstRegret(late, ['a', 'b', 'c'], best)).toBeCloseTo(0, 12);
    expect(chooseOn([early, late], ['a', 'b', 'c']).chosen.name).toBe('late');
    expect(losoFolds([early, late])[2]).toMatchObject({ heldOut: 'c', chosen: 'late', heldOutRegret: 0 });
  });
});
