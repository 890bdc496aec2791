import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDetector, type DetectorParts } from '../../src/detector/factory.js';
import { OnlineDetector, type OnlineDetectorOptions } from '../../src/detector/online-detector.js';
import { Reservoir } from '../../src/detector/reservoir.js';
import { Standardiser } from '../../src/detector/standardiser.js';
import { InvalidOptionError } from '../../src/errors.js';
import * as tf from '../../src/flow/tf.js';
import type { FeatureEvent, ScoredEvent } from '../../src/streams/types.js';
import { EventStream, outlierRow, smallDetectorConfig } from '../helpers/detector-data.js';

const open: DetectorParts[] = [];

function build(overrides: Parameters<typeof smallDetectorConfig>[0] = {}): DetectorParts {
  const parts = createDetector(smallDetectorConfig(overrides));
  open.push(parts);
  return parts;
}

afterEach(() => {
  for (const p of open.splice(0)) p.dispose();
  vi.restoreAllMocks();
});

/** Runs `batches` clean batches of `size` events and returns every result. */
async function feed(
  parts: DetectorParts,
  stream: EventStream,
  batches: number,
  size = 50,
): Promise<ScoredEvent[]> {
  const out: ScoredEvent[] = [];
  for (let b = 0; b < batches; b++) out.push(...(await parts.detector.process(stream.batch(size))));
  return out;
}

/** The rows of every training step, captured before the detector disposes them. */
function captureTraining(parts: DetectorParts): Float32Array[] {
  const seen: Float32Array[] = [];
  // The detector steps through `stepRows` (row-major rows, no tensor on the fused engine's wasm path).
  const original = parts.trainer.stepRows.bind(parts.trainer);
  vi.spyOn(parts.trainer, 'stepRows').mockImplementation((values, n) => {
    seen.push(values.slice(0, n * parts.flow.dim));
    return original(values, n);
  });
  return seen;
}

/** Standardised rows of `events` under the (frozen) standardiser, as row keys. */
function rowKeys(parts: DetectorParts, events: readonly FeatureEvent[]): string[] {
  const d = parts.flow.dim;
  const raw = new Float32Array(events.length * d);
  events.forEach((e, i) => {
    raw.set(e.features, i * d);
  });
  return splitRows(parts.standardiser.transform(raw, events.length, d), d);
}

function splitRows(rows: Float32Array, d: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < rows.length / d; i++) out.push(Array.from(rows.subarray(i * d, (i + 1) * d)).join(','));
  return out;
}

/** log p(x) in feature units of `events` under the current model, computed outside the detector. */
function independentScores(parts: DetectorParts, events: readonly FeatureEvent[]): Float32Array {
  const d = parts.flow.dim;
  const raw = new Float32Array(events.length * d);
  events.forEach((e, i) => {
    raw.set(e.features, i * d);
  });
  const x = parts.standardiser.transform(raw, events.length, d);
  const lp = tf.tidy(() => parts.flow.score(tf.tensor2d(x, [events.length, d])));
  const v = lp.dataSync() as Float32Array;
  lp.dispose();
  const jac = parts.standardiser.logDetJacobian();
  return v.map((s) => s + jac);
}

describe('OnlineDetector: prequential order', () => {
  it('scores a batch with the model as it was before learning from it', async () => {
    const parts = build();
    const stream = new EventStream(1);
    await feed(parts, stream, 5); // past warm-up: the standardiser is frozen
    expect(parts.standardiser.frozen).toBe(true);
    const batch = stream.batch(50);
    const before = parts.detector.modelVersion;
    const expected = independentScores(parts, batch);
    const first = await parts.detector.process(batch);
    expect(parts.detector.modelVersion).toBe(before + 2);
    first.forEach((s, i) => {
      expect(s.modelVersion).toBe(before);
      expect(s.logLikelihood).toBeCloseTo(expected[i]!, 3);
    });
    const second = await parts.detector.process(batch);
    expect(second.every((s) => s.modelVersion === before + 2)).toBe(true);
    const changed = second.filter((s, i) => Math.abs(s.logLikelihood - first[i]!.logLikelihood) > 1e-4);
    expect(changed.length).toBeGreaterThan(40);
  });

  it('calls the flow before the trainer within a batch', async () => {
    const parts = build();
    const calls: string[] = [];
    // The detector scores through its trainer's engine (fused or autodiff).
    const score = parts.trainer.scoreRows.bind(parts.trainer);
    vi.spyOn(parts.trainer, 'scoreRows').mockImplementation((x, n) => {
      calls.push('score');
      return score(x, n);
    });
    const step = parts.trainer.stepRows.bind(parts.trainer);
    vi.spyOn(parts.trainer, 'stepRows').mockImplementation((values, n) => {
      calls.push('train');
      return step(values, n);
    });
    await parts.detector.process(new EventStream(2).batch(40));
    expect(calls[0]).toBe('score');
    expect(calls.filter((c) => c === 'train')).toHaveLength(2);
  });

  it('raises modelVersion by stepsPerBatch per batch; 0 steps only scores', async () => {
    for (const steps of [0, 1, 3]) {
      const parts = build({ training: { stepsPerBatch: steps } });
      const stream = new EventStream(3);
      for (let b = 0; b < 4; b++) {
        const out = await parts.detector.process(stream.batch(30));
        expect(out.every((s) => s.modelVersion === b * steps)).toBe(true);
        expect(parts.detector.modelVersion).toBe((b + 1) * steps);
      }
      expect(parts.detector.eventsSeen).toBe(120);
    }
  });
});

describe('OnlineDetector: warm-up and alerts', () => {
  it('reports warm-up events as warming and never flags them, even extreme ones', async () => {
    const parts = build();
    const stream = new EventStream(4);
    const wild = new Map([[7, outlierRow(40)]]);
    const warm: ScoredEvent[] = [];
    for (let b = 0; b < 4; b++) warm.push(...(await parts.detector.process(stream.batch(50, wild))));
    expect(warm).toHaveLength(200);
    expect(warm.every((s) => s.status === 'warming' && !s.isAnomaly)).toBe(true);
    const later = await feed(parts, stream, 10);
    // The threshold needs its minimum observations after warm-up before anything is scored.
    expect(later.filter((s) => s.status === 'warming').every((s) => !s.isAnomaly)).toBe(true);
    expect(later.at(-1)?.status).toBe('scored');
  });

  it('flags an obvious outlier after warm-up, and few of its clean neighbours', async () => {
    const parts = build();
    const stream = new EventStream(5);
    await feed(parts, stream, 20);
    const out = await parts.detector.process(stream.batch(100, new Map([[42, outlierRow(8)]])));
    expect(out[42]).toMatchObject({ status: 'scored', isAnomaly: true });
    expect(out[42]!.anomalyScore).toBeGreaterThan(0.99);
    expect(out.filter((s) => s.isAnomaly).length).toBeLessThanOrEqual(6);
  });
});

describe('OnlineDetector: what it learns from', () => {
  async function trainedWithOutlier(trainOnAnomalies: boolean) {
    const parts = build({ training: { trainOnAnomalies } });
    const stream = new EventStream(6);
    await feed(parts, stream, 20);
    const steps = captureTraining(parts);
    const batch = stream.batch(50, new Map([[10, outlierRow(30)]]));
    const out = await parts.detector.process(batch);
    expect(out[10]!.isAnomaly).toBe(true);
    const key = rowKeys(parts, [batch[10]!])[0]!;
    const trainedOn = steps.some((rows) => splitRows(rows, 3).includes(key));
    const kept = splitRows(Float32Array.from(parts.reservoir!.getState().rows), 3).includes(key);
    return { trainedOn, kept, steps };
  }

  it('keeps flagged events out of training and the reservoir by default', async () => {
    const { trainedOn, kept, steps } = await trainedWithOutlier(false);
    expect(steps).toHaveLength(2);
    expect(trainedOn).toBe(false);
    expect(kept).toBe(false);
  });

  it('learns from flagged events with trainOnAnomalies', async () => {
    const { trainedOn, kept } = await trainedWithOutlier(true);
    expect(trainedOn).toBe(true);
    expect(kept).toBe(true);
  });

  it('mixes new rows with reservoir rows in the configured proportion', async () => {
    const parts = build({ training: { replayReservoir: { size: 5000, fraction: 0.5 } } });
    const stream = new EventStream(7);
    await feed(parts, stream, 5);
    const past = new Set(splitRows(Float32Array.from(parts.reservoir!.getState().rows), 3));
    expect(past.size).toBe(250);
    const steps = captureTraining(parts);
    const batch = stream.batch(50);
    const fresh = rowKeys(parts, batch);
    await parts.detector.process(batch);
    expect(steps).toHaveLength(2);
    for (const rows of steps) {
      const keys = splitRows(rows, 3);
      expect(keys).toHaveLength(100);
      expect(new Set(keys.slice(0, 50))).toEqual(new Set(fresh));
      expect(keys.slice(50).every((k) => past.has(k))).toBe(true);
      // Drawn with replacement from 250 rows: many distinct ones, not one repeated row.
      expect(new Set(keys.slice(50)).size).toBeGreaterThan(30);
    }
    expect(parts.reservoir!.size).toBe(300);
  });

  it('trains on the new batch only without a reservoir', async () => {
    const parts = build({ training: { replayReservoir: { size: 0 } } });
    expect(parts.reservoir).toBeUndefined();
    const stream = new EventStream(8);
    await feed(parts, stream, 2);
    const steps = captureTraining(parts);
    await parts.detector.process(stream.batch(50));
    expect(steps.map((r) => r.length / 3)).toEqual([50, 50]);
  });
});

describe('OnlineDetector: resources and options', () => {
  it('leaks no tensors over 50 batches', async () => {
    const parts = build();
    const stream = new EventStream(9);
    await parts.detector.process(stream.batch(64));
    const after1 = tf.memory().numTensors;
    for (let b = 1; b < 50; b++) {
      await parts.detector.process(
        stream.batch(64, b % 10 === 0 ? new Map([[3, outlierRow(20)]]) : undefined),
      );
      expect(tf.memory().numTensors).toBe(after1);
    }
    expect(parts.detector.eventsSeen).toBe(50 * 64);
  });

  it('rejects invalid options with InvalidOptionError', () => {
    const parts = build();
    const base: OnlineDetectorOptions = {
      flow: parts.flow,
      trainer: parts.trainer,
      standardiser: parts.standardiser,
      threshold: parts.threshold,
      rng: parts.rng,
      warmupEvents: 10,
      stepsPerBatch: 1,
      batchSize: 32,
    };
    expect(() => new OnlineDetector(base)).not.toThrow();
    const bad: [Partial<OnlineDetectorOptions>, RegExp][] = [
      [{ warmupEvents: -1 }, /warmupEvents/],
      [{ warmupEvents: 1.5 }, /warmupEvents/],
      [{ stepsPerBatch: -1 }, /stepsPerBatch/],
      [{ stepsPerBatch: 0.5 }, /stepsPerBatch/],
      [{ batchSize: 0 }, /batchSize/],
      [{ replayFraction: 1 }, /replayFraction/],
      [{ replayFraction: -0.1 }, /replayFraction/],
      [{ replayFraction: Number.NaN }, /replayFraction/],
      [{ standardiser: new Standardiser({ dim: 2, mode: 'freeze' }) }, /standardiser dim 2/],
      [{ reservoir: new Reservoir(10, 4) }, /reservoir dim 4/],
    ];
    for (const [patch, message] of bad) {
      const make = () => new OnlineDetector({ ...base, ...patch });
      expect(make).toThrow(InvalidOptionError);
      expect(make).toThrow(message);
    }
  });

  it('rejects an event with the wrong number of features', async () => {
    const parts = build();
    const [event] = new EventStream(10).batch(1);
    const wrong: FeatureEvent = { ...event!, features: Float32Array.of(1, 2) };
    await expect(parts.detector.process([wrong])).rejects.toThrow(/2 features, the model expects 3/);
    expect(await parts.detector.process([])).toEqual([]);
  });
});
