import { afterEach, describe, expect, it } from 'vitest';
import { createDetector, type DetectorParts } from '../../src/detector/factory.js';
import {
  DetectorBusyError,
  OnlineDetector,
  type OnlineDetectorState,
} from '../../src/detector/online-detector.js';
import { InvalidOptionError, SerializationError } from '../../src/errors.js';
import * as tf from '../../src/flow/tf.js';
import type { ScoredEvent } from '../../src/streams/types.js';
import { EventStream, outlierRow, smallDetectorConfig } from '../helpers/detector-data.js';

const open: DetectorParts[] = [];

function build(overrides: Parameters<typeof smallDetectorConfig>[0] = {}): DetectorParts {
  const parts = createDetector(smallDetectorConfig(overrides));
  open.push(parts);
  return parts;
}

afterEach(() => {
  for (const p of open.splice(0)) p.dispose();
});

/** `batches` batches of `size` events from `stream`, every 7th batch with an outlier at index 3. */
async function feed(
  parts: DetectorParts,
  stream: EventStream,
  batches: number,
  size = 64,
): Promise<ScoredEvent[]> {
  const out: ScoredEvent[] = [];
  for (let b = 0; b < batches; b++) {
    const replace = b % 7 === 6 ? new Map([[3, outlierRow(12)]]) : undefined;
    out.push(...(await parts.detector.process(stream.batch(size, replace))));
  }
  return out;
}

/** The state as it would be read back from a checkpoint file. */
function throughJson(state: OnlineDetectorState): unknown {
  return JSON.parse(JSON.stringify(state)) as unknown;
}

function online(parts: DetectorParts): OnlineDetector {
  expect(parts.detector).toBeInstanceOf(OnlineDetector);
  return parts.detector as OnlineDetector;
}

describe('OnlineDetector.getState / setState', () => {
  it('round-trips every part exactly: weights, optimizer moments, standardiser, threshold, reservoir, RNG', async () => {
    const a = build();
    await feed(a, new EventStream(1), 10);
    const saved = online(a).getState();
    expect(saved.eventsSeen).toBe(640);
    expect(saved.model.trainer?.step).toBe(a.trainer.stepCount);
    expect(saved.reservoir?.count).toBeGreaterThan(0);
    expect(saved.threshold.policy).toBe('quantile');

    const b = build();
    const before = tf.memory().numTensors;
    online(b).setState(throughJson(saved));
    expect(tf.memory().numTensors).toBe(before); // old flow and trainer freed, new ones of the same size
    const restored = online(b).getState();
    expect(restored).toEqual(saved);
    // Spot checks on the live objects, not only on their JSON.
    expect(b.trainer.stepCount).toBe(a.trainer.stepCount);
    expect(b.rng.getState()).toEqual(a.rng.getState());
    expect(Array.from(b.standardiser.getMean())).toEqual(Array.from(a.standardiser.getMean()));
    expect(b.threshold.observations).toBe(a.threshold.observations);
    expect(b.reservoir?.size).toBe(a.reservoir?.size);
    expect(online(b).eventsSeen).toBe(640);
    // parts.flow / parts.trainer follow the swap.
    expect(b.flow).toBe(online(b).flow);
    expect(b.trainer).toBe(online(b).trainer);
  });

  it('continues exactly like the uninterrupted detector after a restore', async () => {
    const a = build();
    const streamA = new EventStream(2);
    await feed(a, streamA, 6);
    const b = build();
    online(b).setState(throughJson(online(a).getState()));
    // Same further input to both: the restored one must give identical outputs and end in the same state.
    const streamB = new EventStream(2);
    streamB.batch(6 * 64);
    const outA = await feed(a, streamA, 8);
    const outB = await feed(b, streamB, 8);
    expect(outB).toEqual(outA);
    expect(outA.some((s) => s.isAnomaly)).toBe(true);
    expect(online(b).getState()).toEqual(online(a).getState());
  });

  it('rejects a bad state with SerializationError and leaves the detector unchanged', async () => {
    const a = build();
    await feed(a, new EventStream(3), 4);
    const good = online(a).getState();
    const b = build();
    await feed(b, new EventStream(4), 2);
    const unchanged = online(b).getState();
    const tensors = tf.memory().numTensors;
    const bad: [string, unknown][] = [
      ['not an object', 42],
      ['wrong format', { ...good, format: 'something-else' }],
      ['wrong version', { ...good, version: 2 }],
      ['negative events', { ...good, eventsSeen: -1 }],
      ['rng state', { ...good, rng: [1, 2] }],
      ['threshold of another policy', { ...good, threshold: { ...good.threshold, policy: 'pvalue' } }],
      ['reservoir of another dim', { ...good, reservoir: { ...good.reservoir, dim: 4 } }],
      ['missing reservoir', { ...good, reservoir: null }],
      ['standardiser of another dim', { ...good, standardiser: { ...good.standardiser, dim: 2 } }],
      ['truncated weights', corruptWeights(good)],
      ['no optimizer state', { ...good, model: { ...good.model, trainer: undefined } }],
    ];
    for (const [what, state] of bad) {
      expect(() => online(b).setState(state), what).toThrow(SerializationError);
      expect(online(b).getState(), what).toEqual(unchanged);
      expect(tf.memory().numTensors, what).toBe(tensors);
    }
  });

  it('refuses state calls while a batch is being processed, and setState without createTrainer', async () => {
    const a = build();
    const stream = new EventStream(5);
    const pending = a.detector.process(stream.batch(64));
    expect(() => online(a).getState()).toThrow(DetectorBusyError);
    expect(() => online(a).setState({})).toThrow(DetectorBusyError);
    await pending;
    expect(() => online(a).getState()).not.toThrow();
    const bare = new OnlineDetector({
      flow: a.flow,
      trainer: a.trainer,
      standardiser: a.standardiser,
      threshold: a.threshold,
      rng: a.rng,
      warmupEvents: 0,
      stepsPerBatch: 1,
      batchSize: 32,
    });
    expect(() => bare.setState(online(a).getState({ withReservoir: false }))).toThrow(InvalidOptionError);
  });

  it('adopt: copies the model, standardiser and threshold but keeps its own RNG and an empty reservoir', async () => {
    const a = build();
    await feed(a, new EventStream(6), 5);
    const base = online(a).getState({ withReservoir: false });
    expect(base.reservoir).toBeNull();
    const b = build({ model: { seed: 99 } });
    const ownRng = b.rng.getState();
    online(b).adopt(base);
    const s = online(b).getState();
    expect(s.model).toEqual(base.model);
    expect(s.standardiser).toEqual(base.standardiser);
    expect(s.threshold).toEqual(base.threshold);
    expect(s.eventsSeen).toBe(base.eventsSeen);
    expect(s.rng).toEqual(ownRng);
    expect(s.reservoir).toMatchObject({ count: 0, seen: 0, rows: [] });
  });
});

/** The state with the first weight of the first transform cut short. */
function corruptWeights(state: OnlineDetectorState): unknown {
  const copy = JSON.parse(JSON.stringify(state)) as {
    model: { flow: { flows: { weights: Record<string, { data: string }> }[] } };
  };
  const weights = copy.model.flow.flows[0]!.weights;
  const name = Object.keys(weights)[0]!;
  weights[name]!.data = weights[name]!.data.slice(0, 8);
  return copy;
}
