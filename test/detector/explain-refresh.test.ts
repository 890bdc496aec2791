/** Issue 14 item 4: cached model quantiles, re-estimated only every `refreshVersions` model versions. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Explainer, type RowScorer } from '../../src/detector/explain.js';
import { Standardiser } from '../../src/detector/standardiser.js';
import { InvalidOptionError } from '../../src/errors.js';
import { buildFlow } from '../../src/flow/builders.js';
import type { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import * as tf from '../../src/flow/tf.js';
import { Trainer } from '../../src/flow/trainer.js';
import type { ScoredEvent } from '../../src/streams/types.js';

const FIELDS = ['a', 'b', 'c'];
const standardiser = new Standardiser({ dim: 3, mode: 'ema', emaAlpha: 0.1, minStd: 1e-3 });
let flow: NormalizingFlow;
let trainer: Trainer;
beforeAll(() => {
  flow = buildFlow({ type: 'realnvp', dim: 3, layers: 2, hidden: 8, seed: 4 });
  trainer = new Trainer(flow, { engine: 'fused' });
});
afterAll(() => {
  trainer.dispose();
  flow.dispose();
});

function anomaly(modelVersion: number): ScoredEvent {
  return {
    ref: { topic: 't', partition: 0, offset: String(modelVersion) },
    timestamp: 0,
    key: null,
    status: 'scored',
    logLikelihood: -20,
    anomalyScore: 1,
    threshold: -5,
    isAnomaly: true,
    modelVersion,
  };
}

const RAW = new Float32Array([0.1, 8, -0.2]);

describe('Explainer quantile refresh', () => {
  it('samples the flow once per refreshVersions versions and scores with the given scorer', async () => {
    const explainer = new Explainer({ fields: FIELDS, samples: 200, refreshVersions: 4 });
    const sample = vi.spyOn(flow, 'sample');
    const scorer = vi.fn<RowScorer>((rows, n) => trainer.scoreRows(rows, n));
    await trainer.scoreRows(RAW, 1); // folds the weights once
    const before = tf.memory().numTensors;
    const versionsSampled: number[] = [];
    for (const version of [0, 1, 3, 4, 5, 7, 8, 20, 21]) {
      const calls = sample.mock.calls.length;
      const [out] = await explainer.annotate(flow, standardiser, [anomaly(version)], RAW, scorer);
      expect(out!.explanation?.[0]?.feature).toBe('b');
      if (sample.mock.calls.length > calls) versionsSampled.push(version);
    }
    expect(versionsSampled).toEqual([0, 4, 8, 20]);
    expect(scorer).toHaveBeenCalledTimes(9);
    expect(tf.memory().numTensors).toBe(before);
    sample.mockRestore();
  });

  it('with refreshVersions 1 re-samples at every new version; a new flow always re-samples', async () => {
    const explainer = new Explainer({ fields: FIELDS, samples: 200, refreshVersions: 1 });
    const sample = vi.spyOn(flow, 'sample');
    for (const version of [0, 0, 1, 2, 2])
      await explainer.annotate(flow, standardiser, [anomaly(version)], RAW);
    expect(sample).toHaveBeenCalledTimes(3);
    sample.mockRestore();
    const other = buildFlow({ type: 'realnvp', dim: 3, layers: 1, hidden: 4, seed: 1 });
    try {
      const spy = vi.spyOn(other, 'sample');
      await explainer.annotate(other, standardiser, [anomaly(2)], RAW);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      other.dispose();
    }
  });

  it('hands its cache to a restored flow through getCache/restoreCache (checkpoints)', async () => {
    const a = new Explainer({ fields: FIELDS, samples: 200 });
    await a.annotate(flow, standardiser, [anomaly(3)], RAW);
    const saved = JSON.parse(JSON.stringify(a.getCache())) as ReturnType<Explainer['getCache']>;
    expect(saved?.modelVersion).toBe(3);
    const restored = buildFlow({ type: 'realnvp', dim: 3, layers: 2, hidden: 8, seed: 4 });
    try {
      const b = new Explainer({ fields: FIELDS, samples: 200 });
      b.restoreCache(restored, saved);
      const spy = vi.spyOn(restored, 'sample');
      const [x] = await b.annotate(restored, standardiser, [anomaly(9)], RAW);
      const [y] = await a.annotate(flow, standardiser, [anomaly(9)], RAW);
      expect(spy).not.toHaveBeenCalled();
      expect(x!.explanation).toEqual(y!.explanation);
      expect(b.getCache()).toEqual(a.getCache());
      b.restoreCache(restored, null);
      expect(b.getCache()).toBeNull();
    } finally {
      restored.dispose();
    }
  });

  it('rejects a refreshVersions below 1', () => {
    expect(() => new Explainer({ fields: FIELDS, refreshVersions: 0 })).toThrow(InvalidOptionError);
    expect(() => new Explainer({ fields: FIELDS, refreshVersions: 1.5 })).toThrow(/refreshVersions/);
  });
});
