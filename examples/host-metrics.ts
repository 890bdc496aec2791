/**
 * A seeded recording of host metrics for examples/vitest-replay.test.ts: ten hosts report `cpu` and
 * `latency_ms` every 10 s of event time; optionally host-7 has an incident (a burst of extreme values).
 * In your project, import from 'flowsentinel/testing' instead of '../src/testing/index.js'.
 */
import { createRng, type RecordInput, recordOf, type SourceRecord } from '../src/testing/index.js';

/** Start of the recording, epoch ms. */
export const RECORDING_START = Date.UTC(2024, 5, 1, 12, 0, 0);
/** Start of host-7's incident: 20 minutes into the recording. */
export const INCIDENT_START = RECORDING_START + 20 * 60_000;
const INCIDENT_MS = 2 * 60_000;
const HOSTS = 10;
const STEP_MS = 10_000;
const ROUNDS = 150;

/** The detector config of the example: two features, a small model, a short warm-up. */
export const HOST_CONFIG = {
  features: { fields: ['cpu', 'latency_ms'], keyField: 'host' },
  model: { layers: 2, hidden: 16 },
  warmup: { events: 500 },
  // Alert on the lowest 0.5 % of likelihoods, from the 200th event after warm-up on.
  threshold: { policy: 'quantile' as const, quantile: 0.005, window: 2000, minObservations: 200 },
};

/** 25 minutes of host metrics (1500 records); with `incident`, host-7 spikes for 2 minutes from INCIDENT_START. */
export function hostRecording(options: { seed: number; incident: boolean }): SourceRecord[] {
  const rng = createRng(options.seed);
  const inputs: RecordInput[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const timestamp = RECORDING_START + round * STEP_MS;
    for (let h = 0; h < HOSTS; h++) {
      const host = `host-${h}`;
      const load = rng.normal();
      let cpu = 0.35 + 0.03 * h + 0.05 * load + 0.01 * rng.normal();
      let latency = 80 + 4 * h + 15 * load + 3 * rng.normal();
      const inIncident = timestamp >= INCIDENT_START && timestamp < INCIDENT_START + INCIDENT_MS;
      if (options.incident && host === 'host-7' && inIncident) {
        cpu = 0.99;
        latency = 2500 + 100 * rng.uniform();
      }
      inputs.push({ key: host, timestamp, value: { host, cpu, latency_ms: latency } });
    }
  }
  return recordOf(inputs, { topic: 'host-metrics' });
}
