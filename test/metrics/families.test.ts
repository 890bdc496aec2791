import { describe, expect, it } from 'vitest';
import {
  createDetectorMetrics,
  LOG_LIKELIHOOD_BUCKETS_NATS,
  recordBatch,
  recordDeadLetters,
  setBackendInfo,
} from '../../src/metrics/families.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import type { ScoredEvent } from '../../src/streams/types.js';

function event(over: Partial<ScoredEvent>): ScoredEvent {
  return {
    ref: { topic: 't', partition: 0, offset: '0' },
    timestamp: 1_000_000,
    key: null,
    status: 'scored',
    logLikelihood: -5,
    anomalyScore: 0.2,
    threshold: -20,
    isAnomaly: false,
    modelVersion: 3,
    ...over,
  };
}

/** The sample of a histogram series whose name ends with `suffix` (e.g. '_count'). */
function seriesValue(
  metric: { values: ReadonlyArray<object> },
  suffix: string,
): { value: number } | undefined {
  return metric.values.find((v) => (v as { metricName?: string }).metricName?.endsWith(suffix)) as
    | { value: number }
    | undefined;
}

async function setup() {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const metrics = createDetectorMetrics(registry);
  const values = async (name: string) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    if (m === undefined) throw new Error(`no metric ${name}`);
    return m;
  };
  return { registry, metrics, values };
}

describe('detector metric families', () => {
  it('follow Prometheus naming: prefix, _total counters, base units', async () => {
    const { registry } = await setup();
    const all = await registry.getMetricsAsJSON();
    expect(all.length).toBe(21);
    for (const m of all) {
      expect(m.name).toMatch(/^flowsentinel_[a-z_]+$/);
      if (String(m.type) === 'counter') expect(m.name).toMatch(/_total$/);
      else expect(m.name).not.toMatch(/_total$/);
      expect(m.name).not.toMatch(/_(milliseconds|ms)$/);
    }
    const names = all.map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'flowsentinel_events_total',
        'flowsentinel_dead_letters_total',
        'flowsentinel_log_likelihood_nats',
        'flowsentinel_anomaly_score',
        'flowsentinel_training_loss_nats',
        'flowsentinel_training_steps_total',
        'flowsentinel_training_steps_skipped_total',
        'flowsentinel_batch_duration_seconds',
        'flowsentinel_event_latency_seconds',
        'flowsentinel_batch_size',
        'flowsentinel_threshold',
        'flowsentinel_model_version',
        'flowsentinel_backend_info',
        'flowsentinel_drift_score',
        'flowsentinel_window_mean_log_likelihood_nats',
        'flowsentinel_reference_log_likelihood_nats',
        'flowsentinel_reference_log_likelihood_std_nats',
        'flowsentinel_drift_level',
        'flowsentinel_drift_active',
        'flowsentinel_drift_events_total',
        'flowsentinel_alerts_suppressed_total',
      ]),
    );
    expect(LOG_LIKELIHOOD_BUCKETS_NATS[0]).toBe(-1000);
    expect(LOG_LIKELIHOOD_BUCKETS_NATS.at(-1)).toBe(50);
    expect([...LOG_LIKELIHOOD_BUCKETS_NATS].sort((a, b) => a - b)).toEqual([...LOG_LIKELIHOOD_BUCKETS_NATS]);
  });

  it('zero-initialises the event results so rates exist from the first scrape', async () => {
    const { registry } = await setup();
    const text = await registry.metrics();
    for (const result of ['scored', 'anomaly', 'warming', 'dead_lettered']) {
      expect(text).toContain(`flowsentinel_events_total{result="${result}"} 0`);
    }
  });

  it('recordBatch counts each event once and observes scored events', async () => {
    const { metrics, values } = await setup();
    const now = 1_000_000 + 2500;
    recordBatch(
      metrics,
      [
        event({}),
        event({ isAnomaly: true, logLikelihood: -40, anomalyScore: 0.999, modelVersion: 5 }),
        event({ status: 'warming', logLikelihood: -300 }),
        event({ logLikelihood: Number.NEGATIVE_INFINITY, anomalyScore: 1, isAnomaly: true }),
        event({ timestamp: now + 10_000 }),
      ],
      now,
    );
    const events = await values('flowsentinel_events_total');
    const byResult = Object.fromEntries(events.values.map((v) => [v.labels.result, v.value]));
    expect(byResult).toEqual({ scored: 2, anomaly: 2, warming: 1, dead_lettered: 0 });
    const ll = await values('flowsentinel_log_likelihood_nats');
    const count = seriesValue(ll, 'flowsentinel_log_likelihood_nats_count');
    const sum = seriesValue(ll, 'flowsentinel_log_likelihood_nats_sum');
    // Scored, finite only: −5, −40, −5.
    expect(count?.value).toBe(3);
    expect(sum?.value).toBe(-50);
    const score = await values('flowsentinel_anomaly_score');
    expect(seriesValue(score, 'flowsentinel_anomaly_score_count')?.value).toBe(4);
    const latency = await values('flowsentinel_event_latency_seconds');
    // 4 events at 2.5 s, one from the future clamped to 0.
    expect(seriesValue(latency, '_sum')?.value).toBeCloseTo(10, 10);
    expect(seriesValue(latency, '_count')?.value).toBe(5);
    expect((await values('flowsentinel_model_version')).values[0]?.value).toBe(5);
    const size = await values('flowsentinel_batch_size');
    expect(seriesValue(size, '_sum')?.value).toBe(5);
  });

  it('recordBatch on an empty batch changes nothing', async () => {
    const { metrics, values } = await setup();
    recordBatch(metrics, [], 0);
    const size = await values('flowsentinel_batch_size');
    expect(seriesValue(size, '_count')?.value).toBe(0);
  });

  it('counts dead letters by reason and as events', async () => {
    const { metrics, values } = await setup();
    recordDeadLetters(metrics, ['not_json', 'not_json', 'oversize']);
    const dl = await values('flowsentinel_dead_letters_total');
    const byReason = Object.fromEntries(dl.values.map((v) => [v.labels.reason, v.value]));
    expect(byReason).toMatchObject({ not_json: 2, oversize: 1, missing_field: 0 });
    const events = await values('flowsentinel_events_total');
    expect(events.values.find((v) => v.labels.result === 'dead_lettered')?.value).toBe(3);
  });

  it('keeps a single backend_info series', async () => {
    const { metrics, registry } = await setup();
    setBackendInfo(metrics, 'wasm');
    setBackendInfo(metrics, 'cpu');
    const text = await registry.metrics();
    expect(text).toContain('flowsentinel_backend_info{backend="cpu"} 1');
    expect(text).not.toContain('backend="wasm"');
  });
});
