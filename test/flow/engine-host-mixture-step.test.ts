/**
 * Issue 14 item 2: `Trainer` with `engine: fused` trains and scores mixture-CDF flows on the host engine:
 * it follows the autodiff trainer, makes no tensors per step, and skips non-finite passes.
 */
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/rng.js';
import { marginalCouplingFlow } from '../../src/flow/builders-joint.js';
import type { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import * as tf from '../../src/flow/tf.js';
import { Trainer } from '../../src/flow/trainer.js';
import { disposeAfterEach } from '../helpers/track.js';
import { invalidRows } from './engine-cases.js';

const track = disposeAfterEach();

/** The config/tabular.yaml model (4 components, 2 couplings of 8 tanh units) at `dim`. */
function tabularFlow(dim: number, seed = 3): NormalizingFlow {
  return marginalCouplingFlow({ dim, components: 4, layers: 2, hidden: 8, seed });
}

/** Correlated rows: two latent factors mixed into `dim` features plus noise. */
function rows(rng: Rng, n: number, dim: number): Float32Array {
  const mix = Array.from({ length: dim }, (_, j) => [Math.cos(j), Math.sin(2 * j)]);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const f = [rng.normal(), rng.normal()];
    for (let j = 0; j < dim; j++)
      out[i * dim + j] = mix[j]![0]! * f[0]! + mix[j]![1]! * f[1]! + 0.3 * rng.normal();
  }
  return out;
}

const weights = (flow: NormalizingFlow): number[] =>
  flow.trainableVariables().flatMap((v) => Array.from(v.dataSync()));

describe('Trainer engine fused on the host engine (mixture-coupling)', () => {
  it('uses the host engine for the default objective and follows the autodiff trainer over 100 steps', () => {
    const rng = createRng(21);
    const data = Array.from({ length: 4 }, () => track(tf.tensor2d(rows(rng, 128, 5), [128, 5])));
    const [a, b] = [0, 1].map(() => track(tabularFlow(5)));
    const options = { learningRate: 2e-3, weightDecay: 1e-5, clipNorm: 1 };
    const ta = track(new Trainer(a!, { ...options, engine: 'autodiff' }));
    const tb = track(new Trainer(b!, { ...options, engine: 'fused' }));
    expect([tb.usesHostEngine, tb.usesFusedKernels, ta.usesHostEngine]).toEqual([true, true, false]);
    for (let s = 0; s < 100; s++) {
      const la = ta.stepSync(data[s % 4]!).loss;
      const lb = tb.stepSync(data[s % 4]!).loss;
      expect(Math.abs(lb - la)).toBeLessThan(1e-3 * Math.max(1, Math.abs(la)));
    }
    expect(tb.stepCount).toBe(100);
    const wa = weights(a!);
    const wb = weights(b!);
    const maxDiff = Math.max(...wa.map((v, i) => Math.abs(v - wb[i]!)));
    expect(maxDiff).toBeLessThan(1e-3);
  });

  it('keeps the tensor count flat over 1,000 steps (stepRows and step) and scores like flow.score', async () => {
    const flow = track(tabularFlow(8));
    const trainer = track(new Trainer(flow, { engine: 'fused', learningRate: 2e-3 }));
    const rng = createRng(4);
    const data = Array.from({ length: 3 }, () => rows(rng, 128, 8));
    const x = track(tf.tensor2d(data[0]!, [128, 8]));
    expect(flow.isInitialized).toBe(false);
    await trainer.stepRows(data[0]!, 128);
    expect(flow.isInitialized).toBe(true);
    const count = tf.memory().numTensors;
    for (let s = 0; s < 1000; s++) {
      if (s % 2 === 0) await trainer.stepRows(data[s % 3]!, 128);
      else await trainer.step(x);
      await trainer.scoreRows(data[1]!, 64);
    }
    expect(tf.memory().numTensors).toBe(count);
    expect(trainer.stepCount).toBe(1001);
    const got = await trainer.scoreRows(data[2]!, 128);
    const ref = tf.tidy(() => flow.score(tf.tensor2d(data[2]!, [128, 8])).dataSync());
    for (let i = 0; i < 128; i++) {
      expect(Math.abs(got[i]! - ref[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref[i]!)));
    }
  });

  it('NaN/Inf rows leave the weights finite; a non-finite pass skips the update and keeps the weights', async () => {
    const flow = track(tabularFlow(3, 6));
    const trainer = track(new Trainer(flow, { engine: 'fused' }));
    const rng = createRng(7);
    const values = rows(rng, 16, 3);
    values.set(invalidRows().subarray(3, 12), 0);
    for (let s = 0; s < 5; s++) expect((await trainer.stepRows(values, 16)).skipped).toBe(false);
    expect(weights(flow).every(Number.isFinite)).toBe(true);
    // A NaN weight makes every valid row's log p NaN: floored in the loss, NaN in the gradient (as 0·∞ is
    // under autodiff), so the step is skipped and no weight moves.
    const bias = flow.trainableVariables()[4]!;
    const poisoned = tf.tidy(() => tf.fill(bias.shape, Number.NaN));
    bias.assign(poisoned);
    poisoned.dispose();
    const before = weights(flow);
    const r = await trainer.stepRows(values, 16);
    expect(r.skipped).toBe(true);
    expect(Number.isFinite(r.gradNorm)).toBe(false);
    expect(weights(flow)).toEqual(before);
    expect(trainer.skippedSteps).toBe(1);
  });

  it('keeps huge (finite) weights finite: float64 does not overflow, floored rows carry no gradient', async () => {
    const flow = track(tabularFlow(3, 9));
    const trainer = track(new Trainer(flow, { engine: 'fused' }));
    const values = rows(createRng(10), 16, 3);
    await trainer.stepRows(values, 16);
    for (const v of flow.trainableVariables()) {
      const huge = tf.fill(v.shape, 3e38);
      v.assign(huge);
      huge.dispose();
    }
    const r = await trainer.stepRows(values, 16);
    expect(r.loss).toBe(1e10);
    expect(weights(flow).every(Number.isFinite)).toBe(true);
  });

  it('trains a custom objective by autodiff and still scores on the host', async () => {
    const flow = track(tabularFlow(4));
    const objective = (f: NormalizingFlow, x: tf.Tensor2D): tf.Scalar => tf.mul(f.nll(x), 2) as tf.Scalar;
    const trainer = track(new Trainer(flow, { engine: 'fused', objective }));
    expect(trainer.usesHostEngine).toBe(true);
    const data = rows(createRng(11), 64, 4);
    const plain = track(new Trainer(track(tabularFlow(4)), { engine: 'fused' }));
    const r = await trainer.stepRows(data, 64);
    const p = await plain.stepRows(data, 64);
    expect(r.loss).toBeCloseTo(2 * p.loss, 3);
    const got = await trainer.scoreRows(data, 64);
    const ref = tf.tidy(() => flow.score(tf.tensor2d(data, [64, 4])).dataSync());
    for (let i = 0; i < 64; i++)
      expect(Math.abs(got[i]! - ref[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref[i]!)));
  });
});
