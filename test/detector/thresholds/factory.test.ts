import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { createThresholdPolicy } from '../../../src/detector/thresholds/factory.js';
import { PValueThreshold } from '../../../src/detector/thresholds/pvalue.js';
import { QuantileThreshold } from '../../../src/detector/thresholds/quantile.js';
import { StaticThreshold } from '../../../src/detector/thresholds/static.js';

const base = { features: { fields: ['a'] } };

describe('createThresholdPolicy', () => {
  it('builds each policy from its config section', () => {
    const q = createThresholdPolicy(loadConfig({ env: {}, overrides: base }).threshold);
    expect(q).toBeInstanceOf(QuantileThreshold);
    expect((q as QuantileThreshold).rate).toBe(0.001);
    expect((q as QuantileThreshold).minObservations).toBe(1000);
    const p = createThresholdPolicy(
      loadConfig({
        env: {},
        overrides: { ...base, threshold: { policy: 'pvalue', alpha: 0.01, window: 5000 } },
      }).threshold,
    );
    expect(p).toBeInstanceOf(PValueThreshold);
    expect(p.getState()).toMatchObject({ policy: 'pvalue', rate: 0.01, minObservations: 100 });
    const s = createThresholdPolicy(
      loadConfig({ env: {}, overrides: { ...base, threshold: { policy: 'static', logLikelihood: -30 } } })
        .threshold,
    );
    expect(s).toBeInstanceOf(StaticThreshold);
    expect(s.decide([-31]).isAnomaly).toEqual([true]);
  });
});
