/** The fused scoring pass called on the wasm kernels directly (raw-score.ts) gives the tfjs ops' bits. */
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/rng.js';
import { FusedModel } from '../../src/flow/fused/fused-model.js';
import { planFor } from '../../src/flow/fused/plan.js';
import { rawScore } from '../../src/flow/fused/raw-score.js';
import * as tf from '../../src/flow/tf.js';
import { disposeAfterEach } from '../helpers/track.js';
import { caseFlows, randomizeWeights, shapeCases } from './engine-cases.js';

const track = disposeAfterEach();

function rows(rng: Rng, n: number, dim: number): Float32Array {
  return Float32Array.from({ length: n * dim }, () => 1.5 * rng.normal());
}

/** The tfjs-op pass of `model` (its private `launchScore`), read back. */
function opsScore(model: FusedModel, x: Float32Array, n: number): Float32Array {
  const launch = (model as unknown as { launchScore(c: Float32Array, n: number): tf.Tensor1D }).launchScore;
  const lp = launch.call(model, x, n);
  try {
    return lp.dataSync() as Float32Array;
  } finally {
    lp.dispose();
  }
}

const backendData = (): number => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();

describe('raw fused scoring on wasm', () => {
  it('runs on the wasm backend here (the tests below need it)', () => {
    expect(tf.getBackend()).toBe('wasm');
  });

  const cases = shapeCases([1, 2, 5, 8, 16], [1, 3, 6]);
  it.each(cases)(
    'equals the tfjs ops bit for bit (dim $dim, $layers layers, $activation)',
    ({ dim, layers, activation }) => {
      const rng = createRng(dim * 17 + layers);
      for (const flow of caseFlows(dim, layers, activation, rng).map(track)) {
        randomizeWeights(flow, rng);
        const model = track(new FusedModel(planFor(flow)!, flow));
        model.refresh();
        for (const n of [1, 7, 64]) {
          const x = rows(rng, n, dim);
          const raw = rawScore(model.layers, x, n, dim, model.logProbOffset);
          expect(raw).toBeDefined();
          expect(Array.from(raw!)).toEqual(Array.from(opsScore(model, x, n)));
        }
      }
    },
  );

  it('frees every intermediate on the backend and creates no tensors', () => {
    const [flow] = caseFlows(8, 6, 'relu', createRng(3)).map(track);
    const model = track(new FusedModel(planFor(flow!)!, flow!));
    const x = rows(createRng(4), 32, 8);
    model.scoreSync(x, 32);
    const tensors = tf.memory().numTensors;
    const data = backendData();
    for (let i = 0; i < 20; i++) model.scoreSync(x, 32);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backendData()).toBe(data);
  });
});
