import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import {
  AnomalyLikelihood,
  type AnomalyLikelihoodOptions,
  DEFAULT_LIKELIHOOD_OPTIONS,
  tailScore,
} from '../../src/detector/anomaly-likelihood.js';
import { InvalidOptionError, SerializationError } from '../../src/errors.js';

const OPTIONS: AnomalyLikelihoodOptions = {
  ...DEFAULT_LIKELIHOOD_OPTIONS,
  learningEvents: 50,
  estimationEvents: 100,
};

/** Seeded raw scores (NLL-like: a noisy level) with optional planted events. */
function rawSeries(n: number, seed: number, plant: (i: number, x: number) => number = (_, x) => x): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => plant(i, 2 + 0.5 * rng.normal()));
}

function scores(raw: readonly number[], o = OPTIONS): number[] {
  const al = new AnomalyLikelihood(o);
  return raw.map((r) => al.next(r));
}

describe('tailScore', () => {
  it('maps tail probabilities to NAB-HTM log scores in [0, 1]', () => {
    expect(tailScore(Math.log(0.5))).toBeCloseTo(0.0301, 3);
    expect(tailScore(Math.log(1e-5))).toBeCloseTo(0.5, 4);
    expect(tailScore(Math.log(1e-300))).toBe(1);
    expect(tailScore(0)).toBeCloseTo(0, 8);
  });
});

describe('AnomalyLikelihood', () => {
  it('scores 0 while learning and estimating', () => {
    const s = scores(rawSeries(400, 1));
    expect(s.slice(0, OPTIONS.learningEvents + OPTIONS.estimationEvents).every((v) => v === 0)).toBe(true);
  });

  it('flags a planted spike far above the quiet background', () => {
    const s = scores(rawSeries(2000, 2, (i, x) => (i === 1500 ? x + 40 : x)));
    const background = Math.max(...s.slice(300, 1500));
    expect(background).toBeLessThan(0.5);
    expect(s[1500]!).toBeGreaterThan(0.5);
    expect(s[1500]!).toBeGreaterThan(background + 0.2);
  });

  it('flags a level shift of the raw score within the averaging window', () => {
    const s = scores(rawSeries(2000, 3, (i, x) => (i >= 1500 ? x + 3 : x)));
    const background = Math.max(...s.slice(300, 1500));
    const onset = Math.max(...s.slice(1500, 1500 + OPTIONS.averagingWindow));
    expect(onset).toBeGreaterThan(0.5);
    expect(onset).toBeGreaterThan(background);
  });

  it('is scale-free: an affine change of the raw scores leaves the scores unchanged', () => {
    const raw = rawSeries(1500, 4, (i, x) => (i === 1000 ? x + 10 : x));
    const a = scores(raw, { ...OPTIONS, minStd: 1e-9 });
    const b = scores(
      raw.map((r) => 1000 + 37 * r),
      { ...OPTIONS, minStd: 1e-9 },
    );
    for (let i = 0; i < a.length; i++) expect(b[i]!).toBeCloseTo(a[i]!, 6);
  });

  it('is deterministic and restores its state exactly', () => {
    const raw = rawSeries(1200, 5);
    const whole = scores(raw);
    const first = new AnomalyLikelihood(OPTIONS);
    const head = raw.slice(0, 600).map((r) => first.next(r));
    const second = new AnomalyLikelihood(OPTIONS);
    second.setState(JSON.parse(JSON.stringify(first.getState())));
    const tail = raw.slice(600).map((r) => second.next(r));
    expect([...head, ...tail]).toEqual(whole);
  });

  it('passes non-finite raw scores through as 0 without learning them', () => {
    const al = new AnomalyLikelihood(OPTIONS);
    expect(al.next(Number.NaN)).toBe(0);
    expect(al.getState().seen).toBe(0);
  });

  it('validates options and states', () => {
    expect(() => new AnomalyLikelihood({ ...OPTIONS, averagingWindow: 0 })).toThrow(InvalidOptionError);
    expect(() => new AnomalyLikelihood({ ...OPTIONS, minStd: 0 })).toThrow(/minStd/);
    expect(() => new AnomalyLikelihood({ ...OPTIONS, historyEvents: 1 })).toThrow(/historyEvents/);
    const al = new AnomalyLikelihood(OPTIONS);
    expect(() => al.setState({ ...al.getState(), variance: -1 })).toThrow(SerializationError);
  });
});
