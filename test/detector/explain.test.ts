import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/rng.js';
import { Explainer, explainAnomalies, marginalQuantiles } from '../../src/detector/explain.js';
import { Standardiser } from '../../src/detector/standardiser.js';
import { InvalidOptionError } from '../../src/errors.js';
import { buildFlow } from '../../src/flow/builders.js';
import type { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import * as tf from '../../src/flow/tf.js';
import { Trainer } from '../../src/flow/trainer.js';
import type { ScoredEvent } from '../../src/streams/types.js';

/** Lower-triangular mixing matrix: features 0 and 1 correlate at ρ ≈ 0.95, the others moderately. */
const MIX = [
  [1, 0, 0, 0],
  [0.95, 0.31, 0, 0],
  [0.3, 0.2, 0.93, 0],
  [0, 0.5, 0.3, 0.81],
];
const OFFSET = [50, -2, 0, 1000];
const SCALE = [10, 0.5, 3, 100];
const FIELDS = ['cpu', 'load', 'latency', 'bytes'];
/** Marginal standard deviation of each feature, feature units. */
const SD = MIX.map((row, i) => SCALE[i]! * Math.hypot(...row));

function row(rng: Rng): number[] {
  const z = MIX.map(() => rng.normal());
  return MIX.map((m, i) => OFFSET[i]! + SCALE[i]! * m.reduce((s, a, j) => s + a * z[j]!, 0));
}

let flow: NormalizingFlow;
let standardiser: Standardiser;

beforeAll(async () => {
  const rng = createRng(11);
  const n = 4000;
  const data = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) data.set(row(rng), i * 4);
  standardiser = new Standardiser({ dim: 4, mode: 'freeze', freezeAfter: n });
  standardiser.update(data, n, 4);
  flow = buildFlow({ type: 'realnvp', dim: 4, layers: 4, hidden: 32, seed: 5 });
  const trainer = new Trainer(flow, { learningRate: 0.01, clipNorm: 5 });
  await trainer.fit(standardiser.transform(data, n, 4), { steps: 300, batchSize: 256, rng: createRng(12) });
  trainer.dispose();
}, 120_000);

afterAll(() => flow.dispose());

/** `count` clean rows with feature `j` pushed by `sigmas` marginal standard deviations. */
function planted(count: number, j: number, sigmas: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(count * 4);
  for (let i = 0; i < count; i++) {
    const r = row(rng);
    r[j] = r[j]! + sigmas * SD[j]!;
    out.set(r, i * 4);
  }
  return out;
}

describe('explainAnomalies', () => {
  it('ranks the feature pushed by 8σ first, with shares summing to 1 and no tensor leak', async () => {
    const q = await marginalQuantiles(flow, 2048, 0, 0);
    const rows = planted(6, 2, 8, 21);
    const before = tf.memory().numTensors;
    const out = await explainAnomalies(flow, standardiser, rows, FIELDS, q, 4);
    expect(tf.memory().numTensors).toBe(before);
    expect(out).toHaveLength(6);
    for (const [i, contributions] of out.entries()) {
      expect(contributions).toHaveLength(4);
      expect(contributions[0]!.feature).toBe('latency');
      expect(contributions[0]!.share).toBeGreaterThan(0.5);
      expect(contributions[0]!.value).toBeCloseTo(rows[i * 4 + 2]!, 4);
      const total = contributions.reduce((s, c) => s + c.share, 0);
      expect(total).toBeCloseTo(1, 6);
      for (const c of contributions) expect(c.share).toBeGreaterThanOrEqual(0);
      // Sorted by share, largest first.
      for (let k = 1; k < 4; k++)
        expect(contributions[k]!.share).toBeLessThanOrEqual(contributions[k - 1]!.share);
    }
  });

  it('ranks the planted feature first whichever feature it is, in either direction', async () => {
    const q = await marginalQuantiles(flow, 2048, 0, 0);
    for (const [j, sigmas] of [
      [0, 8],
      [1, -8],
      [3, 8],
    ] as const) {
      const out = await explainAnomalies(flow, standardiser, planted(3, j, sigmas, 30 + j), FIELDS, q, 1);
      for (const contributions of out) expect(contributions.map((c) => c.feature)).toEqual([FIELDS[j]]);
    }
  });

  it('blames the broken pair when two correlated features disagree but each is in range', async () => {
    const q = await marginalQuantiles(flow, 2048, 0, 0);
    // cpu +2σ and load −2σ: each marginally ordinary, jointly about 12σ off the ρ = 0.95 ridge. The rest of
    // the share goes to bytes, which also depends on load's latent.
    const r = [OFFSET[0]! + 2 * SD[0]!, OFFSET[1]! - 2 * SD[1]!, OFFSET[2]!, OFFSET[3]!];
    const [contributions] = await explainAnomalies(flow, standardiser, Float32Array.from(r), FIELDS, q, 2);
    expect(new Set(contributions!.map((c) => c.feature))).toEqual(new Set(['cpu', 'load']));
    expect(contributions!.reduce((s, c) => s + c.share, 0)).toBeGreaterThan(0.75);
  });

  it('reports the model’s 1st–99th percentile range in feature units', async () => {
    const q = await marginalQuantiles(flow, 4096, 0, 0);
    const [contributions] = await explainAnomalies(flow, standardiser, planted(1, 0, 0, 40), FIELDS, q, 4);
    for (const c of contributions!) {
      const j = FIELDS.indexOf(c.feature);
      // Gaussian truth: mean ± 2.326 σ. A small flow trained briefly is allowed 25% of the half-width.
      const half = 2.326 * SD[j]!;
      expect(Math.abs(c.typicalLow - (OFFSET[j]! - half))).toBeLessThan(0.25 * half);
      expect(Math.abs(c.typicalHigh - (OFFSET[j]! + half))).toBeLessThan(0.25 * half);
    }
  });

  it('rejects feature names that do not match the flow', async () => {
    const q = await marginalQuantiles(flow, 200, 0, 0);
    await expect(
      explainAnomalies(flow, standardiser, new Float32Array(3), ['a', 'b', 'c'], q),
    ).rejects.toThrow(InvalidOptionError);
  });
});

describe('Explainer', () => {
  function scored(isAnomaly: boolean, i: number, modelVersion: number): ScoredEvent {
    return {
      ref: { topic: 't', partition: 0, offset: String(i) },
      timestamp: i,
      key: null,
      status: 'scored',
      logLikelihood: 0,
      anomalyScore: isAnomaly ? 1 : 0,
      threshold: 0,
      isAnomaly,
      modelVersion,
    };
  }

  it('annotates anomalies only, caches quantiles per model version and leaks no tensors', async () => {
    const explainer = new Explainer({ fields: FIELDS, topK: 2, samples: 512, seed: 3 });
    const raw = new Float32Array(3 * 4);
    raw.set(planted(1, 0, 0, 50), 0);
    raw.set(planted(1, 3, -9, 51), 4);
    raw.set(planted(1, 0, 0, 52), 8);
    const events = [scored(false, 0, 7), scored(true, 1, 7), scored(false, 2, 7)];
    const before = tf.memory().numTensors;
    const out = await explainer.annotate(flow, standardiser, events, raw);
    const again = await explainer.annotate(flow, standardiser, events, raw);
    expect(tf.memory().numTensors).toBe(before);
    expect(out[0]).toBe(events[0]);
    expect(out[2]).toBe(events[2]);
    expect(out[1]!.explanation?.map((c) => c.feature)[0]).toBe('bytes');
    expect(out[1]!.explanation).toHaveLength(2);
    // Same model version: the cached quantiles give the identical explanation.
    expect(again[1]!.explanation).toEqual(out[1]!.explanation);
    expect(await explainer.annotate(flow, standardiser, [events[0]!], raw.subarray(0, 4))).toEqual([
      events[0],
    ]);
    // Another flow of the same version (a restored detector) gets its own quantiles.
    const other = buildFlow({ type: 'realnvp', dim: 4, layers: 2, hidden: 8, seed: 9 });
    try {
      const fresh = await explainer.annotate(other, standardiser, events, raw);
      expect(fresh[1]!.explanation).not.toEqual(out[1]!.explanation);
    } finally {
      other.dispose();
    }
  });

  it('validates its options', () => {
    expect(() => new Explainer({ fields: FIELDS, topK: 0 })).toThrow(InvalidOptionError);
    expect(() => new Explainer({ fields: [] })).toThrow(InvalidOptionError);
    expect(() => new Explainer({ fields: FIELDS, samples: 10 })).toThrow(/samples/);
  });
});
