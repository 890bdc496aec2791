import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { InvalidOptionError } from '../../src/errors.js';
import {
  EXAMPLE_TRUTH,
  mixtureNll1d,
  runMixture1dExample,
  sampleMixture1d,
} from '../../src/flow/examples/mixture-1d.js';
import * as tf from '../../src/flow/tf.js';

/**
 * The design's 1-D example: 750 points of 0.3·N(−2, 0.5²) + 0.7·N(1.5, 0.8²) (seed 1), a 4-component
 * mixture-CDF flow with a Beta(2, 5) prior, full-batch AdamW (lr 5e-3, weight decay 1e-5, clip 1, 600 steps).
 */
describe('design 1-D example (mixture-CDF flow + Beta(2, 5) prior)', () => {
  it('fits within 0.05 nats of the true NLL on the training points and 0.08 on fresh points', () => {
    const before = tf.memory().numTensors;
    const r = runMixture1dExample();
    expect(tf.memory().numTensors).toBe(before);
    for (const v of Object.values(r)) expect(Number.isFinite(v)).toBe(true);
    // Entropy of the true mixture is ≈ 1.63 nats; the sample NLLs must be near it.
    expect(r.trueTrainNll).toBeGreaterThan(1.4);
    expect(r.trueTrainNll).toBeLessThan(1.9);
    expect(Math.abs(r.gapTrain)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(r.gapFresh)).toBeLessThanOrEqual(0.08);
    expect(r.gapTrain).toBeCloseTo(r.trainNll - r.trueTrainNll, 12);
    expect(r.gapFresh).toBeCloseTo(r.freshNll - r.trueFreshNll, 12);
  });

  it('an untrained flow is far from the truth (the comparison can fail)', () => {
    const r = runMixture1dExample({ steps: 0 });
    expect(r.gapTrain).toBeGreaterThan(0.5);
  });

  it('samples the documented truth and scores it in float64', () => {
    const xs = sampleMixture1d(EXAMPLE_TRUTH, 20_000, createRng(11));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    // E[x] = 0.3·(−2) + 0.7·1.5 = 0.45; sd(x) ≈ 1.7, so 5 standard errors ≈ 0.06.
    expect(Math.abs(mean - 0.45)).toBeLessThan(0.06);
    const one = mixtureNll1d({ weights: [1], means: [0], stds: [1] }, Float32Array.of(0));
    expect(one).toBeCloseTo(0.5 * Math.log(2 * Math.PI), 12);
  });

  it('validates its configuration', () => {
    expect(() => runMixture1dExample({ trainSize: 0 })).toThrow(InvalidOptionError);
    expect(() => runMixture1dExample({ seed: 1.5 })).toThrow(InvalidOptionError);
    expect(() => runMixture1dExample({ truth: { weights: [0.5], means: [0], stds: [1] } })).toThrow(
      InvalidOptionError,
    );
  });
});
