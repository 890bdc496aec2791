/**
 * Issue 13 item 6: per-key models score a key's few rows on the host (`Trainer` option
 * `hostScoreMaxRows`), which must agree with the fused kernels to float32 rounding, floor invalid rows
 * the same way, follow weight updates, and allocate no tensors.
 */
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/rng.js';
import { realNVP } from '../../src/flow/builders.js';
import { FusedModel } from '../../src/flow/fused/fused-model.js';
import { planFor } from '../../src/flow/fused/plan.js';
import { LOG_PROB_FLOOR } from '../../src/flow/normalizing-flow.js';
import * as tf from '../../src/flow/tf.js';
import { Trainer } from '../../src/flow/trainer.js';
import { disposeAfterEach } from '../helpers/track.js';
import { caseFlows, invalidRows, randomizeWeights, shapeCases } from './engine-cases.js';

const track = disposeAfterEach();

function rows(rng: Rng, n: number, dim: number): Float32Array {
  return Float32Array.from({ length: n * dim }, () => 1.5 * rng.normal());
}

function expectClose(a: Float32Array, b: Float32Array, rel: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) {
    expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(b[i]!)));
  }
}

describe('host scoring of a few rows', () => {
  const cases = shapeCases([1, 2, 3, 6], [1, 4]);
  it.each(cases)(
    'equals the fused kernels within 1e-5 (dim $dim, $layers layers, $activation)',
    ({ dim, layers, activation }) => {
      const rng = createRng(dim * 17 + layers);
      const flows = caseFlows(dim, layers, activation, rng).map(track);
      for (const flow of flows) {
        randomizeWeights(flow, rng);
        const model = track(new FusedModel(planFor(flow)!, flow));
        for (const n of [1, 5, 32]) {
          const x = rows(rng, n, dim);
          expectClose(model.scoreHost(x, n), model.scoreSync(x, n), 1e-5);
        }
      }
    },
  );

  it('Trainer uses it up to hostScoreMaxRows: same floors for invalid rows, no tensors', async () => {
    const flow = track(realNVP({ dim: 3, layers: 2, hidden: 8, seed: 1 }));
    randomizeWeights(flow, createRng(2));
    const host = track(new Trainer(flow, { engine: 'fused', hostScoreMaxRows: 5 }));
    const kernels = track(new Trainer(flow, { engine: 'fused' }));
    const x = invalidRows();
    await host.scoreRows(x, 5); // folds once
    const before = tf.memory().numTensors;
    const a = await host.scoreRows(x, 5);
    expect(tf.memory().numTensors).toBe(before);
    expect([a[1], a[2], a[3]]).toEqual([LOG_PROB_FLOOR, LOG_PROB_FLOOR, LOG_PROB_FLOOR]);
    expectClose(a, await kernels.scoreRows(x, 5), 1e-5);
  });

  it('follows weight updates (refold after a training step or an assign)', async () => {
    const rng = createRng(5);
    const flow = track(realNVP({ dim: 4, layers: 3, hidden: 8, seed: 3 }));
    const host = track(new Trainer(flow, { engine: 'fused', hostScoreMaxRows: 64, learningRate: 0.05 }));
    const x = rows(rng, 8, 4);
    const before = await host.scoreRows(x, 8);
    const batch = tf.tensor2d(rows(rng, 32, 4), [32, 4]);
    try {
      await host.step(batch);
    } finally {
      batch.dispose();
    }
    const afterStep = await host.scoreRows(x, 8);
    expect(afterStep).not.toEqual(before);
    const model = track(new FusedModel(planFor(flow)!, flow));
    expectClose(afterStep, model.scoreSync(x, 8), 1e-5);
    randomizeWeights(flow, rng);
    expectClose(await host.scoreRows(x, 8), model.scoreSync(x, 8), 1e-5);
  });

  it('rejects a negative or fractional hostScoreMaxRows', () => {
    const flow = track(realNVP({ dim: 2, layers: 1, hidden: 4, seed: 1 }));
    expect(() => new Trainer(flow, { engine: 'fused', hostScoreMaxRows: -1 })).toThrow(/hostScoreMaxRows/);
    expect(() => new Trainer(flow, { engine: 'fused', hostScoreMaxRows: 1.5 })).toThrow(/hostScoreMaxRows/);
  });
});
