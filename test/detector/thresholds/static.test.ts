import { describe, expect, it } from 'vitest';
import { StaticThreshold } from '../../../src/detector/thresholds/static.js';
import { InvalidOptionError, SerializationError } from '../../../src/errors.js';

describe('StaticThreshold', () => {
  const policy = new StaticThreshold({ logLikelihood: -20, scale: 2 });

  it('alerts strictly below the threshold, with score 0.5 at it and monotone in log-likelihood', () => {
    const lls = [-100, -22, -20, -18, 5];
    const d = policy.decide(lls);
    expect(d.threshold).toBe(-20);
    expect(d.ready).toBe(true);
    expect(d.isAnomaly).toEqual([true, true, false, false, false]);
    expect(d.anomalyScore[2]).toBe(0.5);
    expect(d.anomalyScore[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    for (let i = 1; i < lls.length; i++) expect(d.anomalyScore[i]!).toBeLessThan(d.anomalyScore[i - 1]!);
    for (const s of d.anomalyScore) {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }
    // isAnomaly ⇔ score > 0.5
    d.anomalyScore.forEach((s, i) => {
      expect(s > 0.5).toBe(d.isAnomaly[i]);
    });
  });

  it('treats NaN and −∞ as maximally anomalous and +∞ as normal', () => {
    const d = policy.decide([Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]);
    expect(d.isAnomaly).toEqual([true, true, false]);
    expect(d.anomalyScore).toEqual([1, 1, 0]);
  });

  it('learns nothing and round-trips its state', () => {
    const p = new StaticThreshold({ logLikelihood: -5 });
    p.update([-1000, 1000]);
    expect(p.decide([-6]).isAnomaly).toEqual([true]);
    const q = new StaticThreshold({ logLikelihood: 0 });
    q.setState(JSON.parse(JSON.stringify(policy.getState())));
    expect(q.decide([-21, -19])).toEqual(policy.decide([-21, -19]));
    expect(() => q.setState({ policy: 'quantile' })).toThrow(SerializationError);
  });

  it('validates options', () => {
    expect(() => new StaticThreshold({ logLikelihood: Number.NaN })).toThrow(InvalidOptionError);
    expect(() => new StaticThreshold({ logLikelihood: -1, scale: 0 })).toThrow(/scale/);
  });
});
