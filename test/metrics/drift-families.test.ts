import { describe, expect, it } from 'vitest';
import type { DriftSnapshot } from '../../src/detector/drift.js';
import { createDetectorMetrics, recordDrift, setDriftLevel } from '../../src/metrics/families.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';

const snapshot = (over: Partial<DriftSnapshot>): DriftSnapshot => ({
  phase: 'watching',
  score: 0.1,
  windowMean: -5,
  reference: -4.5,
  referenceStd: 2,
  eventsSeen: 10,
  ...over,
});

async function gauges(registry: ReturnType<typeof createMetricsRegistry>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of await registry.getMetricsAsJSON()) {
    const v = m.values[0];
    if (String(m.type) === 'gauge' && v !== undefined && Object.keys(v.labels).length === 0)
      out[m.name] = v.value;
  }
  return out;
}

describe('drift metric families', () => {
  it('publish the reference band inputs (mean, σ, level) and the drift state', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = createDetectorMetrics(registry);
    setDriftLevel(metrics, 0.3);
    recordDrift(metrics, snapshot({}), []);
    expect(await gauges(registry)).toMatchObject({
      flowsentinel_drift_score: 0.1,
      flowsentinel_window_mean_log_likelihood_nats: -5,
      flowsentinel_reference_log_likelihood_nats: -4.5,
      flowsentinel_reference_log_likelihood_std_nats: 2,
      flowsentinel_drift_level: 0.3,
      flowsentinel_drift_active: 0,
    });
    recordDrift(metrics, snapshot({ phase: 'drifting', score: 0.7 }), []);
    expect(await gauges(registry)).toMatchObject({
      flowsentinel_drift_active: 1,
      flowsentinel_drift_score: 0.7,
    });
  });

  it('keep the last finite values while the reference is being measured (NaN)', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = createDetectorMetrics(registry);
    recordDrift(metrics, snapshot({ referenceStd: 1.5 }), []);
    recordDrift(
      metrics,
      snapshot({ phase: 'reference', score: Number.NaN, reference: Number.NaN, referenceStd: Number.NaN }),
      [],
    );
    expect(await gauges(registry)).toMatchObject({
      flowsentinel_reference_log_likelihood_std_nats: 1.5,
      flowsentinel_drift_score: 0.1,
      flowsentinel_drift_active: 0,
    });
  });
});
