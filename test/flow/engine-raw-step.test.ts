/** The fused training step called on the wasm kernels directly (raw-step.ts) gives the tfjs ops' bits. */
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/rng.js';
import { realNVP } from '../../src/flow/builders.js';
import { FusedModel } from '../../src/flow/fused/fused-model.js';
import { fusedGradients } from '../../src/flow/fused/fused-step.js';
import { planFor } from '../../src/flow/fused/plan.js';
import * as tf from '../../src/flow/tf.js';
import { Trainer } from '../../src/flow/trainer.js';
import { disposeAfterEach } from '../helpers/track.js';
import { caseFlows, invalidRows, randomizeWeights, shapeCases } from './engine-cases.js';

const track = disposeAfterEach();

function rows(rng: Rng, n: number, dim: number): Float32Array {
  return Float32Array.from({ length: n * dim }, () => 1.5 * rng.normal());
}

/** The tfjs-op step's packed readback (`launch`) and the raw one (`host`) of the same source. */
function both(model: FusedModel, x: Float32Array, n: number): { ops: number[]; raw: number[] } {
  const source = fusedGradients(model);
  const t = tf.tensor2d(x, [n, model.plan.dim]);
  try {
    const packed = source.launch(t, model.store);
    const ops = Array.from(packed.dataSync());
    packed.dispose();
    expect(source.host).toBeDefined();
    return { ops, raw: Array.from(source.host!(x, n, model.store)) };
  } finally {
    t.dispose();
  }
}

const backendData = (): number => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();

describe('raw fused training step on wasm', () => {
  it('runs on the wasm backend here (the tests below need it)', () => {
    expect(tf.getBackend()).toBe('wasm');
  });

  const cases = shapeCases([1, 2, 5, 8, 16], [1, 3, 6]);
  it.each(cases)(
    'packs the same loss and gradients bit for bit (dim $dim, $layers layers, $activation)',
    ({ dim, layers, activation }) => {
      const rng = createRng(dim * 31 + layers);
      for (const flow of caseFlows(dim, layers, activation, rng).map(track)) {
        randomizeWeights(flow, rng);
        const model = new FusedModel(planFor(flow)!, flow);
        model.refresh();
        for (const n of [1, 7, 64]) {
          const { ops, raw } = both(model, rows(rng, n, dim), n);
          expect(raw).toEqual(ops);
        }
        model.dispose();
      }
    },
  );

  // The raw step transposes the first hidden activation by a small matmul and packs the first layer's
  // gradients from one `[db₀; dW₀]` matmul: with one hidden layer that transpose feeds the output layer's
  // gradient, with three the later layers still use the Transpose kernel.
  it.each([[[16]], [[16, 12, 10]], [[7, 5]]] as const)(
    'packs the same bits with conditioner hidden layers %j (relu and tanh)',
    (hidden) => {
      const rng = createRng(hidden.length * 7 + 1);
      for (const activation of ['relu', 'tanh'] as const) {
        const flow = track(realNVP({ dim: 5, layers: 3, hidden: [...hidden], activation, seed: 3 }));
        randomizeWeights(flow, rng);
        const model = new FusedModel(planFor(flow)!, flow);
        model.refresh();
        for (const n of [1, 33]) {
          const { ops, raw } = both(model, rows(rng, n, 5), n);
          expect(raw).toEqual(ops);
        }
        model.dispose();
      }
    },
  );

  it('agrees on rows that are NaN, infinite or out of range (they carry no gradient)', () => {
    const [flow] = caseFlows(3, 2, 'relu', createRng(5)).map(track);
    const model = new FusedModel(planFor(flow!)!, flow!);
    model.refresh();
    const { ops, raw } = both(model, invalidRows(), 5);
    expect(raw).toEqual(ops);
    expect(raw.every(Number.isFinite)).toBe(true);
    model.dispose();
  });

  it('a Trainer on wasm steps through it without a tensor per step or data left on the backend', async () => {
    const [flow] = caseFlows(8, 6, 'relu', createRng(3)).map(track);
    const trainer = new Trainer(flow!, { engine: 'fused' });
    const x = rows(createRng(4), 64, 8);
    await trainer.stepRows(x, 64);
    const tensors = tf.memory().numTensors;
    const data = backendData();
    for (let i = 0; i < 20; i++) await trainer.stepRows(x, 64);
    expect(trainer.stepCount).toBe(21);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backendData()).toBe(data);
    trainer.dispose();
  });
});
