import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { createJobMetrics, KeyAnomalyCounter, OTHER_KEY_LABEL } from '../../src/metrics/job-families.js';
import type { ScoredEvent } from '../../src/streams/types.js';

const anomaly = (key: string | null, isAnomaly = true): ScoredEvent => ({
  ref: { topic: 't', partition: 0, offset: '0' },
  timestamp: 0,
  key,
  status: 'scored',
  logLikelihood: -30,
  anomalyScore: 0.999,
  threshold: -20,
  isAnomaly,
  modelVersion: 1,
});

async function byKey(registry: Registry): Promise<Record<string, number>> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'flowsentinel_key_anomalies_total');
  return Object.fromEntries((m?.values ?? []).map((v) => [String(v.labels.key), v.value]));
}

describe('job metric families', () => {
  it('export the in-flight limit, readiness at scrape time, in-flight records and checkpoints', async () => {
    const registry = new Registry();
    let ready = false;
    const m = createJobMetrics(registry, { highWaterMark: 512, ready: () => ready });
    m.inFlight.set(17);
    m.inFlightPeak.set(40);
    m.checkpoints.inc();
    const text1 = await registry.metrics();
    expect(text1).toContain('flowsentinel_records_in_flight_limit 512');
    expect(text1).toContain('flowsentinel_records_in_flight 17');
    expect(text1).toContain('flowsentinel_records_in_flight_peak 40');
    expect(text1).toContain('flowsentinel_ready 0');
    expect(text1).toContain('flowsentinel_checkpoints_total 1');
    ready = true;
    expect(await registry.metrics()).toContain('flowsentinel_ready 1');
  });

  it('read the in-flight count and its peak from the followed gate at scrape time', async () => {
    const registry = new Registry();
    const m = createJobMetrics(registry, { highWaterMark: 8, ready: () => true });
    const gate = { inFlight: 3, maxInFlight: 7 };
    m.followInFlight(gate);
    expect(await registry.metrics()).toContain('flowsentinel_records_in_flight 3');
    expect(await registry.metrics()).toContain('flowsentinel_records_in_flight_peak 7');
    gate.inFlight = 0;
    expect(await registry.metrics()).toContain('flowsentinel_records_in_flight 0');
    // A new gate without a record in flight yet leaves the last peak standing.
    m.followInFlight({ inFlight: 0, maxInFlight: 0 });
    expect(await registry.metrics()).toContain('flowsentinel_records_in_flight_peak 7');
  });

  it('sample the learned ratio of the learning budget at scrape time (1 without one)', async () => {
    const plain = new Registry();
    createJobMetrics(plain, { highWaterMark: 8, ready: () => true });
    expect(await plain.metrics()).toContain('flowsentinel_training_learned_ratio 1');
    const registry = new Registry();
    let ratio = 0.25;
    createJobMetrics(registry, { highWaterMark: 8, ready: () => true, learnedRatio: () => ratio });
    expect(await registry.metrics()).toContain('flowsentinel_training_learned_ratio 0.25');
    ratio = 0.5;
    expect(await registry.metrics()).toContain('flowsentinel_training_learned_ratio 0.5');
  });

  it('reject a bad high-water mark or key budget', () => {
    expect(() => createJobMetrics(new Registry(), { highWaterMark: 0, ready: () => true })).toThrow(
      InvalidOptionError,
    );
    expect(() => new KeyAnomalyCounter(new Registry(), -1)).toThrow(InvalidOptionError);
  });

  it('count anomalies by key, the first maxKeys keys labelled and the rest as "other"', async () => {
    const registry = new Registry();
    const counter = new KeyAnomalyCounter(registry, 2);
    expect(await byKey(registry)).toEqual({ [OTHER_KEY_LABEL]: 0 });
    counter.record([
      anomaly('a'),
      anomaly('a'),
      anomaly('b'),
      anomaly('c'),
      anomaly('d', false),
      anomaly(null),
    ]);
    counter.record([anomaly('c'), anomaly('b'), anomaly(OTHER_KEY_LABEL)]);
    expect(await byKey(registry)).toEqual({ a: 2, b: 2, [OTHER_KEY_LABEL]: 3 });
  });

  it('bound the label length and the number of series under many keys', async () => {
    const registry = new Registry();
    const counter = new KeyAnomalyCounter(registry, 50);
    counter.record(Array.from({ length: 1000 }, (_, i) => anomaly(`key-${i}-${'x'.repeat(200)}`)));
    const counts = await byKey(registry);
    expect(Object.keys(counts)).toHaveLength(51);
    expect(Math.max(...Object.keys(counts).map((k) => k.length))).toBe(128);
    expect(counts[OTHER_KEY_LABEL]).toBe(950);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1000);
  });
});
