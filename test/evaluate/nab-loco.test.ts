import { describe, expect, it } from 'vitest';
import {
  bestOn,
  type CandidateSummary,
  chooseFinal,
  locoFolds,
  runLoco,
  summariseCandidate,
  thresholdGap,
  worstCase,
} from '../../src/evaluate/nab-loco.js';
import { NAB_PROFILES, type NabSeries } from '../../src/evaluate/nab-score.js';

const STEP = 60_000;

/** A series of `n` points with one window at [from, to] (indices), or none. */
function seriesOf(name: string, n: number, window?: [number, number]): NabSeries {
  const timestamps = Array.from({ length: n }, (_, i) => i * STEP);
  return {
    name,
    timestamps,
    values: timestamps.map((_, i) => i % 7),
    windows: window === undefined ? [] : [[window[0] * STEP, window[1] * STEP]],
  };
}

const corpus = [
  seriesOf('a/one.csv', 200, [100, 120]),
  seriesOf('b/two.csv', 200, [150, 170]),
  seriesOf('c/three.csv', 200),
];

/** Detections at the given indices of each series (score 1 there). */
function candidate(name: string, at: readonly (readonly number[])[]) {
  const scores = corpus.map((s, k) => s.values.map((_, i) => (at[k]!.includes(i) ? 1 : 0)));
  return { name, scores, detections: scores.map((a) => a.map((v) => v >= 0.5)) };
}

describe('locoFolds', () => {
  it('holds out each distinct category once, sorted, training on the others', () => {
    expect(locoFolds(['b', 'a', 'c', 'a'])).toEqual([
      { heldOut: 'a', train: ['b', 'c'] },
      { heldOut: 'b', train: ['a', 'c'] },
      { heldOut: 'c', train: ['a', 'b'] },
    ]);
  });

  it('needs two categories', () => {
    expect(() => locoFolds(['a', 'a'])).toThrow(/at least 2 categories/);
  });
});

describe('summariseCandidate', () => {
  const p = NAB_PROFILES.standard;

  it('scores a perfect detector 100 and the null detector 0 per category; no windows = NaN', () => {
    const perfect = summariseCandidate(corpus, candidate('perfect', [[100], [150], []]), p);
    expect(perfect.categories.a!.fixed).toBeCloseTo(100, 6);
    expect(perfect.categories.b!.fixed).toBeCloseTo(100, 6);
    expect(perfect.categories.c!.fixed).toBeNaN();
    expect(perfect.total.fixed).toBeCloseTo(100, 6);
    const none = summariseCandidate(corpus, candidate('none', [[], [], []]), p);
    expect(none.categories.a!.fixed).toBeCloseTo(0, 6);
  });

  it('counts false positives of a category without windows, and the pooled score charges them', () => {
    const noisy = summariseCandidate(corpus, candidate('noisy', [[100], [150], [60, 90, 130]]), p);
    expect(noisy.categories.c!.fp).toBe(3);
    expect(worstCase(noisy, ['a', 'c'])).toBeLessThan(100);
    expect(worstCase(noisy, ['a', 'b'])).toBeCloseTo(100, 6);
  });
});

describe('runLoco and chooseFinal', () => {
  const p = NAB_PROFILES.standard;
  const summaries: CandidateSummary[] = [
    summariseCandidate(corpus, candidate('only-a', [[100], [], []]), p),
    summariseCandidate(corpus, candidate('both-late', [[118], [168], []]), p),
    summariseCandidate(corpus, candidate('both-early', [[101], [151], [60]]), p),
  ];

  it('chooses on the training categories only and reports the held-out score of that choice', () => {
    const folds = runLoco(summaries, locoFolds(['a', 'b', 'c']));
    // Trained on b and c: only-a misses b's window, so an early detector of both wins.
    expect(folds[0]).toMatchObject({ heldOut: 'a', chosen: 'both-early' });
    expect(folds[0]!.heldOutScore).toBe(summaries[2]!.categories.a);
    // Trained on a and b: both-early has no false positive there; it wins.
    expect(folds[2]).toMatchObject({ heldOut: 'c', chosen: 'both-early' });
    expect(folds[2]!.heldOutScore.fp).toBe(1);
  });

  it('takes as final the candidate with the best worst category', () => {
    expect(chooseFinal(summaries).name).toBe('both-early');
  });
});

describe('the threshold-gap rule', () => {
  const p = NAB_PROFILES.standard;
  const good = candidate('good', [[101], [151], []]);
  // Scores that would be perfect at a lower threshold, but the fixed threshold detects nothing.
  const unreachable = {
    ...good,
    name: 'fixed-too-high',
    detections: good.scores.map((a) => a.map(() => false)),
  };
  const mild = candidate('mild', [[118], [168], []]);
  const summaries = [summariseCandidate(corpus, unreachable, p), summariseCandidate(corpus, mild, p)];

  it('measures how much the fixed threshold loses against each category optimum', () => {
    expect(thresholdGap(summaries[0]!, ['a', 'b', 'c'])).toBeCloseTo(
      summaries[0]!.categories.a!.optimised,
      6,
    );
    expect(thresholdGap(summaries[1]!, ['a', 'b', 'c'])).toBeCloseTo(0, 6);
  });

  it('chooses only among candidates whose fixed threshold travels, when any does', () => {
    const exact = summaries.map((s) => ({ ...s, categories: { ...s.categories } }));
    expect(bestOn(exact, ['a', 'b'], 2).best.name).toBe('mild');
    expect(chooseFinal(exact, 2).name).toBe('mild');
    expect(runLoco(exact, locoFolds(['a', 'b', 'c']), 2).every((f) => f.chosen === 'mild')).toBe(true);
  });
});
