import { describe, expect, it } from 'vitest';
import { type AnomalyLearning, decideThenUpdate } from '../../../src/detector/thresholds/factory.js';
import { PValueThreshold } from '../../../src/detector/thresholds/pvalue.js';
import { InvalidOptionError } from '../../../src/errors.js';
import { ksUniform, normals } from './helpers.js';

function pValues(policy: PValueThreshold, values: readonly number[]): number[] {
  return policy.decide(values).anomalyScore.map((s) => 1 - s);
}

describe('PValueThreshold', () => {
  it('computes the +1-corrected mid-rank tail p-value exactly on well-separated data', () => {
    const policy = new PValueThreshold({ alpha: 0.05, window: 1000, minObservations: 20 });
    // 50 values with 10 % spacing: every value sits in its own sketch bin.
    const data = Array.from({ length: 50 }, (_, k) => -(1.1 ** k));
    policy.update(data);
    const sorted = [...data].sort((a, b) => a - b);
    const p = pValues(policy, [sorted[0]!, sorted[9]!, -1e9, 1e9]);
    expect(p[0]).toBeCloseTo((1 + 0.5) / 51, 12);
    expect(p[1]).toBeCloseTo((1 + 9.5) / 51, 12);
    expect(p[2]).toBeCloseTo(1 / 51, 12);
    expect(p[3]).toBeCloseTo(1, 12);
    const d = policy.decide([-1e9, sorted[0]!, sorted[2]!]);
    expect(d.threshold).toBe(0.05);
    // p = 1/51 and 1.5/51 are below 0.05; 3.5/51 is not.
    expect(d.isAnomaly).toEqual([true, true, false]);
  });

  it('gives ~uniform p-values on in-distribution data (KS bound) and not on shifted data', () => {
    const n = 20_000;
    const m = 4000;
    const policy = new PValueThreshold({ alpha: 0.01, window: n });
    policy.update(normals(21, n, -12, 3));
    const inDist = pValues(policy, normals(22, m, -12, 3));
    // 99 % KS critical values for the test sample and the reference sample, plus half a sketch bin
    // of mass (≤ 0.5 % relative accuracy at the density peak ≈ 0.01).
    const bound = 1.63 / Math.sqrt(m) + 1.63 / Math.sqrt(n) + 0.01;
    expect(ksUniform(inDist)).toBeLessThan(bound);
    const mean = inDist.reduce((a, b) => a + b, 0) / m;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    const shifted = pValues(policy, normals(23, m, -13, 3));
    expect(ksUniform(shifted)).toBeGreaterThan(bound);
  });

  function prequentialRate(anomalies: AnomalyLearning): number {
    const policy = new PValueThreshold({ alpha: 0.01, window: 10_000 });
    const stream = normals(24, 40_000, -6, 1);
    let alerts = 0;
    let judged = 0;
    for (let i = 0; i < stream.length; i += 250) {
      const d = decideThenUpdate(policy, stream.slice(i, i + 250), { anomalies });
      if (d.ready) {
        judged += d.isAnomaly.length;
        alerts += d.isAnomaly.filter(Boolean).length;
      }
    }
    expect(judged).toBeGreaterThan(35_000);
    return alerts / judged;
  }

  it('alerts at rate ≈ α on in-distribution data, prequentially, with the default tail budget', () => {
    const rate = prequentialRate('budget');
    // Binomial sd ≈ 0.0005; the slack also covers mid-p ties and finite-window estimation.
    expect(rate).toBeGreaterThan(0.007);
    expect(rate).toBeLessThan(0.013);
  });

  it('ratchets when flagged events are dropped from the reference (why the budget exists)', () => {
    expect(prequentialRate('drop')).toBeGreaterThan(0.03);
  });

  it('does not alert before minObservations', () => {
    const policy = new PValueThreshold({ alpha: 0.01, window: 1000, minObservations: 500 });
    policy.update(normals(25, 499, 0, 1));
    const d = policy.decide([-1e6, Number.NaN]);
    expect(d.ready).toBe(false);
    expect(d.isAnomaly).toEqual([false, false]);
    expect(d.anomalyScore[1]).toBe(1);
    policy.update([0]);
    expect(policy.decide([-1e6, Number.NaN]).isAnomaly).toEqual([true, true]);
  });

  it('validates options', () => {
    expect(() => new PValueThreshold({ alpha: 0, window: 1000 })).toThrow(InvalidOptionError);
    expect(() => new PValueThreshold({ alpha: 0.01, window: 1000, minObservations: 99 })).toThrow(
      /ceil\(1\/alpha\)/,
    );
  });
});
