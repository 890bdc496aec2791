/** Issue 14 item 3: fused scoring (folded weights, fused matmuls, JS-side validity) equals the autodiff path. */
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/rng.js';
import { realNVP, splineFlow } from '../../src/flow/builders.js';
import { FusedModel } from '../../src/flow/fused/fused-model.js';
import { planFor } from '../../src/flow/fused/plan.js';
import { LOG_PROB_FLOOR, type NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import * as tf from '../../src/flow/tf.js';
import { Trainer } from '../../src/flow/trainer.js';
import { disposeAfterEach } from '../helpers/track.js';
import { caseFlows, invalidRows, mixedFlow, randomizeWeights, shapeCases } from './engine-cases.js';

const track = disposeAfterEach();

function rows(rng: Rng, n: number, dim: number): Float32Array {
  return Float32Array.from({ length: n * dim }, () => 1.5 * rng.normal());
}

function autodiffScore(flow: NormalizingFlow, x: Float32Array, n: number): Float32Array {
  return tf.tidy(() => flow.score(tf.tensor2d(x, [n, flow.dim])).dataSync() as Float32Array);
}

function expectClose(a: Float32Array, b: Float32Array, rel: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) {
    expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(b[i]!)));
  }
}

describe('fused scoring', () => {
  const cases = shapeCases([1, 2, 3, 5, 8, 16], [1, 3, 6]);
  it.each(cases)(
    'equals flow.score within 1e-5 (dim $dim, $layers layers, $activation)',
    ({ dim, layers, activation }) => {
      const rng = createRng(dim * 31 + layers);
      const flows = caseFlows(dim, layers, activation, rng).map(track);
      for (const flow of flows) {
        randomizeWeights(flow, rng);
        const model = track(new FusedModel(planFor(flow)!, flow));
        const x = rows(rng, 64, dim);
        expectClose(model.scoreSync(x, 64), autodiffScore(flow, x, 64), 1e-5);
      }
    },
  );

  it('floors invalid rows on the JS side exactly like logProb', async () => {
    const flow = track(realNVP({ dim: 3, layers: 2, hidden: 8, seed: 1 }));
    randomizeWeights(flow, createRng(2));
    const trainer = track(new Trainer(flow, { engine: 'fused' }));
    expect(trainer.usesFusedKernels).toBe(true);
    const x = invalidRows();
    const fused = await trainer.scoreRows(x, 5);
    expect([fused[1], fused[2], fused[3]]).toEqual([LOG_PROB_FLOOR, LOG_PROB_FLOOR, LOG_PROB_FLOOR]);
    expectClose(fused, autodiffScore(flow, x, 5), 1e-5);
  });

  it('refolds when the weights change, and leaks no tensors', () => {
    const flow = track(mixedFlow(4, 2, 8, createRng(5), 'relu'));
    const model = track(new FusedModel(planFor(flow)!, flow));
    const x = rows(createRng(6), 32, 4);
    model.scoreSync(x, 32);
    const count = tf.memory().numTensors;
    for (let round = 0; round < 3; round++) {
      randomizeWeights(flow, createRng(round));
      expectClose(model.scoreSync(x, 32), autodiffScore(flow, x, 32), 1e-5);
    }
    expect(tf.memory().numTensors).toBe(count);
  });

  it('builds permutation constants once, keeps them across refolds and frees everything on dispose', () => {
    const flow = track(mixedFlow(4, 3, 8, createRng(3), 'relu'));
    const count = tf.memory().numTensors;
    const model = new FusedModel(planFor(flow)!, flow);
    const permutes = (): tf.Tensor[] =>
      model.layers.flatMap((l) => (l.plan.kind === 'permute' && 'p' in l ? [l.p, l.pT] : []));
    const x = rows(createRng(7), 16, 4);
    model.scoreSync(x, 16);
    const first = permutes();
    expect(first.length).toBeGreaterThan(0);
    randomizeWeights(flow, createRng(8));
    expectClose(model.scoreSync(x, 16), autodiffScore(flow, x, 16), 1e-5);
    model.refold();
    expect(permutes()).toEqual(first);
    expect(first.every((t) => !t.isDisposed)).toBe(true);
    model.dispose();
    expect(first.every((t) => t.isDisposed)).toBe(true);
    expect(tf.memory().numTensors).toBe(count);
  });

  it('is not planned for unsupported flows (they keep the autodiff scorer)', async () => {
    const flow = track(splineFlow({ dim: 2, layers: 1, hidden: 4 }));
    expect(planFor(flow)).toBeUndefined();
    const trainer = track(new Trainer(flow, { engine: 'fused' }));
    expect(trainer.usesFusedKernels).toBe(false);
    const x = rows(createRng(7), 16, 2);
    expect(Array.from(await trainer.scoreRows(x, 16))).toEqual(Array.from(autodiffScore(flow, x, 16)));
  });
});
