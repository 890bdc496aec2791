/**
 * Per-series scoring (`timeseries.scoring`) through a real `OnlineDetector`: a seeded daily-seasonal
 * series with a spike and a level shift to a never-seen level. The p-value score flags the spike, the
 * range breakout the shift; the run is deterministic and leaks no tensors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { DEFAULT_LIKELIHOOD_OPTIONS } from '../../src/detector/anomaly-likelihood.js';
import { createDetector, type DetectorParts } from '../../src/detector/factory.js';
import {
  TimeSeriesDetector,
  TimeSeriesFeaturizer,
  type TimeSeriesOptions,
  timeSeriesFeatureNames,
} from '../../src/detector/timeseries/index.js';
import * as tf from '../../src/flow/tf.js';
import type { FeatureEvent, ScoredEvent } from '../../src/streams/types.js';
import { smallDetectorConfig } from '../helpers/detector-data.js';

const STEP_MS = 300_000;
const PER_DAY = 288;
const N = 6 * PER_DAY;
const SPIKE = 1300;
/** At a daily peak, so the shifted values leave the range seen so far at once. */
const SHIFT = 5 * PER_DAY + 72;
const T0 = Date.UTC(2024, 0, 1);

/** 40 ± 15 daily sine plus N(0, 1.5²) noise; +15 (10σ) at SPIKE; +12 from SHIFT on. */
function series(seed: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: N }, (_, t) => {
    const v = 40 + 15 * Math.sin((2 * Math.PI * t) / PER_DAY) + 1.5 * rng.normal();
    return v + (t === SPIKE ? 15 : 0) + (t >= SHIFT ? 12 : 0);
  });
}

const OPTIONS: TimeSeriesOptions = {
  field: 'value',
  lags: 4,
  differences: true,
  timeOfDay: false,
  dayOfWeek: false,
  maxKeys: 4,
  scoring: {
    ...DEFAULT_LIKELIHOOD_OPTIONS,
    enabled: true,
    score: 'pvalue',
    rangeTolerance: 0.02,
    threshold: 0.995,
  },
};

const open: DetectorParts[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.dispose();
});

async function run(values: readonly number[]): Promise<ScoredEvent[]> {
  const parts = createDetector(
    smallDetectorConfig({
      features: { fields: timeSeriesFeatureNames(OPTIONS) },
      model: { type: 'realnvp', layers: 2, hidden: 16, seed: 3 },
      training: { stepsPerBatch: 2, learningRate: 0.003, batchSize: 128, trainOnAnomalies: true },
      warmup: { events: 300 },
      threshold: { policy: 'quantile', quantile: 0.005, window: 2000, minObservations: 300 },
    }),
  );
  open.push(parts);
  const detector = new TimeSeriesDetector(new TimeSeriesFeaturizer(OPTIONS), parts.detector);
  const out: ScoredEvent[] = [];
  for (let s = 0; s < N; s += 32) {
    const batch: FeatureEvent[] = values.slice(s, s + 32).map((v, i) => ({
      ref: { topic: 'cpu', partition: 0, offset: String(s + i) },
      timestamp: T0 + (s + i) * STEP_MS,
      key: 'host-1',
      features: Float32Array.of(v),
    }));
    out.push(...(await detector.process(batch)));
  }
  return out;
}

describe('time-series mode with per-series scoring', () => {
  it('flags the spike (p-value) and the shift (range breakout), deterministically, without leaks', async () => {
    const values = series(2);
    const before = tf.memory().numTensors;
    const out = await run(values);
    const live = tf.memory().numTensors; // the model's weights and optimizer state
    expect(out).toHaveLength(N);
    expect(out.every((s) => s.anomalyScore >= 0 && s.anomalyScore <= 1)).toBe(true);
    expect(out.filter((s) => s.status === 'warming').every((s) => s.anomalyScore === 0)).toBe(true);
    // The spike stays inside the range seen: the p-value score flags it (below 1, above the threshold).
    expect(out[SPIKE]!.isAnomaly).toBe(true);
    expect(out[SPIKE]!.anomalyScore).toBeLessThan(1);
    expect(out[SHIFT]!.anomalyScore).toBe(1);
    expect(out[SHIFT]!.isAnomaly).toBe(true);
    // Before the spike: the p-value score's top 0.5% plus the odd breakout while the range settles.
    const scored = out.slice(0, SPIKE).filter((s) => s.status === 'scored');
    const falseAlarms = scored.filter((s) => s.isAnomaly).length;
    expect(falseAlarms).toBeLessThanOrEqual(Math.ceil(0.02 * scored.length));
    // Same seed, same config: identical scores. Tensor count flat: a second detector's whole run leaves
    // exactly as many live tensors as the first, and disposing both returns to the start.
    for (const p of open.splice(0)) p.dispose();
    const again = await run(values);
    expect(tf.memory().numTensors).toBe(live);
    expect(again.map((s) => s.anomalyScore)).toEqual(out.map((s) => s.anomalyScore));
    for (const p of open.splice(0)) p.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});
