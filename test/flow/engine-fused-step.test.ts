/** Issue 14 item 2: the tape-free step's hand-written gradients against tfjs autodiff. */
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/rng.js';
import { realNVP } from '../../src/flow/builders.js';
import { FusedModel } from '../../src/flow/fused/fused-model.js';
import { fusedGradients } from '../../src/flow/fused/fused-step.js';
import { planFor } from '../../src/flow/fused/plan.js';
import type { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import * as tf from '../../src/flow/tf.js';
import { Trainer } from '../../src/flow/trainer.js';
import { disposeAfterEach } from '../helpers/track.js';
import { expectGradsClose, mixedFlow, randomizeWeights } from './engine-cases.js';

const track = disposeAfterEach();

function batch(rng: Rng, n: number, dim: number): tf.Tensor2D {
  return tf.tensor2d(
    Float32Array.from({ length: n * dim }, () => 1.2 * rng.normal()),
    [n, dim],
  );
}

/** [loss, gradients…] by autodiff, in `flow.trainableVariables()` order. */
function autodiff(flow: NormalizingFlow, x: tf.Tensor2D): { loss: number; grads: Float32Array[] } {
  return tf.tidy(() => {
    const vars = flow.trainableVariables();
    const { value, grads } = tf.variableGrads(() => flow.nll(x), vars);
    return {
      loss: value.dataSync()[0]!,
      grads: vars.map((v) => (grads[v.name] ?? tf.zerosLike(v)).dataSync() as Float32Array),
    };
  });
}

/** [loss, gradients…] by the tape-free step, unfolded to the same layout. */
function tapeFree(flow: NormalizingFlow, x: tf.Tensor2D): { loss: number; grads: Float32Array[] } {
  const model = track(new FusedModel(planFor(flow)!, flow));
  const source = fusedGradients(model);
  model.refresh();
  const packed = source.launch(x, model.store);
  const values = source.unpack!(packed.dataSync() as Float32Array, model.store);
  packed.dispose();
  source.dispose?.();
  const grads = model.store.vars.map((_, i) => model.store.slice(values.subarray(1), i).slice());
  return { loss: values[0]!, grads };
}

describe('tape-free step: gradients equal autodiff within 1e-4 relative', () => {
  const cases = [1, 2, 3, 7, 16].flatMap((dim) =>
    [1, 2, 5, 8].map(
      (layers) => ({ dim, layers, activation: (dim * layers) % 3 === 0 ? 'tanh' : 'relu' }) as const,
    ),
  );
  it.each(cases)('dim $dim, $layers layers, $activation', ({ dim, layers, activation }) => {
    const rng = createRng(dim * 101 + layers);
    const flows = [
      track(realNVP({ dim, layers, hidden: [12, 10], activation, seed: dim + layers })),
      track(mixedFlow(dim, Math.min(layers, 4), 8, rng, activation)),
    ];
    for (const flow of flows) {
      randomizeWeights(flow, rng, 0.25);
      const x = track(batch(rng, 48, dim));
      const ref = autodiff(flow, x);
      const got = tapeFree(flow, x);
      expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(ref.loss)));
      expectGradsClose(got.grads, ref.grads, 1e-4);
    }
  });

  it('gives floored rows (NaN, ±Infinity, beyond maxAbsInput) the floor and no gradient, like nll', () => {
    const rng = createRng(9);
    const flow = track(realNVP({ dim: 3, layers: 3, hidden: 8, seed: 2 }));
    randomizeWeights(flow, rng);
    const values = Float32Array.from({ length: 32 * 3 }, () => rng.normal());
    values.set([Number.NaN, Number.POSITIVE_INFINITY, 3e6], 3);
    values[10] = Number.NEGATIVE_INFINITY;
    const x = track(tf.tensor2d(values, [32, 3]));
    const ref = autodiff(flow, x);
    const got = tapeFree(flow, x);
    expect(got.loss).toBeGreaterThan(1e8);
    expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(ref.loss));
    expectGradsClose(got.grads, ref.grads, 1e-4);
  });
});

describe('Trainer engine fused with the tape-free step', () => {
  it('follows the autodiff trainer (ActNorm init, permutations) over 100 steps', () => {
    const rng = createRng(21);
    const data = Array.from({ length: 4 }, () => track(batch(rng, 64, 4)));
    const [a, b] = [0, 1].map(() => track(mixedFlow(4, 3, 16, createRng(5), 'relu')));
    const options = { learningRate: 3e-3, weightDecay: 1e-5, clipNorm: 1 };
    const ta = track(new Trainer(a!, { ...options, engine: 'autodiff' }));
    const tb = track(new Trainer(b!, { ...options, engine: 'fused' }));
    expect(tb.usesFusedKernels).toBe(true);
    let last = { a: 0, b: 0 };
    for (let s = 0; s < 100; s++) {
      last = { a: ta.stepSync(data[s % 4]!).loss, b: tb.stepSync(data[s % 4]!).loss };
      expect(Math.abs(last.b - last.a)).toBeLessThan(1e-3 * Math.max(1, Math.abs(last.a)));
    }
    expect(tb.stepCount).toBe(100);
  });

  it('keeps the tensor count flat over 1,000 steps and scores with the updated weights', async () => {
    const flow = track(realNVP({ dim: 8, layers: 6, hidden: 16, seed: 3 }));
    const trainer = track(new Trainer(flow, { engine: 'fused' }));
    const rng = createRng(4);
    const data = Array.from({ length: 3 }, () => track(batch(rng, 64, 8)));
    await trainer.step(data[0]!);
    const count = tf.memory().numTensors;
    for (let s = 0; s < 1000; s++) await trainer.step(data[s % 3]!);
    expect(tf.memory().numTensors).toBe(count);
    expect(trainer.stepCount).toBe(1001);
    const rows = data[1]!.dataSync() as Float32Array;
    const fused = await trainer.scoreRows(rows, 64);
    const ref = tf.tidy(() => flow.score(data[1]!).dataSync());
    for (let i = 0; i < 64; i++)
      expect(Math.abs(fused[i]! - ref[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref[i]!)));
  });

  it('NaN/Inf inputs leave weights finite; a non-finite pass skips the update and keeps the weights', () => {
    const flow = track(realNVP({ dim: 3, layers: 2, hidden: 8, seed: 6 }));
    const trainer = track(new Trainer(flow, { engine: 'fused' }));
    const rng = createRng(7);
    const values = Float32Array.from({ length: 16 * 3 }, () => rng.normal());
    values.set([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY], 0);
    const x = track(tf.tensor2d(values, [16, 3]));
    for (let s = 0; s < 5; s++) trainer.stepSync(x);
    const weights = (): number[] => flow.trainableVariables().flatMap((v) => Array.from(v.dataSync()));
    expect(weights().every(Number.isFinite)).toBe(true);
    // Huge (finite) weights overflow the conditioner to ±Infinity: NaN gradients, the step is skipped.
    for (const v of flow.trainableVariables()) {
      const huge = tf.fill(v.shape, 1e30);
      v.assign(huge);
      huge.dispose();
    }
    const before = weights();
    const r = trainer.stepSync(x);
    expect(r.skipped).toBe(true);
    expect(weights()).toEqual(before);
    expect(before.every(Number.isFinite)).toBe(true);
    expect(trainer.skippedSteps).toBe(1);
  });
});
