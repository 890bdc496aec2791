import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/rng.js';
import { InvalidOptionError, SerializationError } from '../../src/errors.js';
import type { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import * as tf from '../../src/flow/tf.js';
import { type StepResult, Trainer, TrainerError, type TrainerOptions } from '../../src/flow/trainer.js';
import { makeTinyFlow, type TinyAffine, tinyFlowFromJSON } from '../helpers/tiny-flow.js';
import { disposeAfterEach } from '../helpers/track.js';

const DIM = 3;
const MU = [2, -1, 0.5];
const SIGMA = [0.5, 2, 1];
/** Entropy of N(MU, diag SIGMA²) in nats: the best achievable mean NLL. */
const ENTROPY = SIGMA.reduce((a, s) => a + 0.5 * Math.log(2 * Math.PI * Math.E * s * s), 0);

function gaussianRows(rng: Rng, n: number): Float32Array {
  const v = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < DIM; j++) v[i * DIM + j] = MU[j]! + SIGMA[j]! * rng.normal();
  return v;
}

function batches(seed: number, count: number, n = 64): tf.Tensor2D[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => tf.tensor2d(gaussianRows(rng, n), [n, DIM]));
}

/** A tiny flow with all-zero parameters, marked initialised (so training starts far from the optimum). */
function untrainedFlow(): NormalizingFlow {
  const f = makeTinyFlow(DIM);
  const spec = f.toJSON();
  f.dispose();
  return tinyFlowFromJSON(spec);
}

function weights(flow: NormalizingFlow): number[] {
  return flow.trainableVariables().flatMap((v) => Array.from(v.dataSync()));
}

const track = disposeAfterEach();

describe('Trainer', () => {
  it('runs data-dependent init once, then learns the data distribution', async () => {
    const flow = track(makeTinyFlow(DIM));
    const trainer = track(new Trainer(flow, { learningRate: 0.02, weightDecay: 0 }));
    const data = batches(1, 4).map(track);
    const first = await trainer.step(data[0]!);
    const layers = flow.flows as TinyAffine[];
    expect(layers.map((l) => l.initCalls)).toEqual([1, 1]);
    // The init standardises the batch, so the first loss is already near the entropy.
    expect(Math.abs(first.loss - ENTROPY)).toBeLessThan(0.3);
    expect(first).toMatchObject({ skipped: false, step: 1, learningRate: 0.02 });
    await trainer.step(data[1]!);
    expect(layers.map((l) => l.initCalls)).toEqual([1, 1]);

    const cold = track(untrainedFlow());
    const t2 = track(new Trainer(cold, { learningRate: 0.05, weightDecay: 0, clipNorm: 5 }));
    const initial = await t2.step(data[0]!);
    let last: StepResult = initial;
    for (let s = 0; s < 400; s++) last = await t2.step(data[s % data.length]!);
    expect(initial.loss).toBeGreaterThan(ENTROPY + 2);
    const heldOut = track(tf.tensor2d(gaussianRows(createRng(99), 4000), [4000, DIM]));
    const nll = tf.tidy(() => cold.nll(heldOut).dataSync()[0]!);
    expect(Math.abs(nll - ENTROPY)).toBeLessThan(0.08);
    expect(last.step).toBe(401);
    expect(t2.skippedSteps).toBe(0);
  });

  it('reports the pre-clip global gradient norm of the NLL', async () => {
    const flow = track(untrainedFlow());
    const [x] = batches(2, 1).map(track);
    const trainer = track(new Trainer(flow, { clipNorm: 0.1 }));
    const expected = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => flow.nll(x!), flow.trainableVariables());
      const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
      return Math.sqrt(tf.addN(sq).dataSync()[0]!);
    });
    const r = await trainer.step(x!);
    expect(expected).toBeGreaterThan(0.1);
    expect(r.gradNorm).toBeCloseTo(expected, 3);
  });

  it('skips an update whose gradients are non-finite, then resumes', async () => {
    const flow = track(makeTinyFlow(DIM));
    const trainer = track(new Trainer(flow, { weightDecay: 0.01 }));
    const data = batches(3, 2).map(track);
    await trainer.step(data[0]!);
    const before = weights(flow);
    const layer = flow.flows[0] as TinyAffine;
    layer.poison = true;
    const r = await trainer.step(data[1]!);
    expect(r.skipped).toBe(true);
    expect(Number.isFinite(r.gradNorm)).toBe(false);
    expect(r.step).toBe(1);
    expect(trainer.skippedSteps).toBe(1);
    expect(weights(flow)).toEqual(before);
    layer.poison = false;
    const ok = await trainer.step(data[1]!);
    expect(ok).toMatchObject({ skipped: false, step: 2 });
    const after = weights(flow);
    expect(after.every(Number.isFinite)).toBe(true);
    expect(after).not.toEqual(before);
  });

  it('skips an update whose loss is NaN (injected objective) and keeps weights finite', () => {
    const flow = track(makeTinyFlow(DIM));
    let poison = false;
    const trainer = track(
      new Trainer(flow, { objective: (f, x) => tf.add(f.nll(x), poison ? Number.NaN : 0) as tf.Scalar }),
    );
    const [x] = batches(4, 1).map(track);
    trainer.stepSync(x!);
    const before = weights(flow);
    poison = true;
    const r = trainer.stepSync(x!);
    expect(Number.isNaN(r.loss)).toBe(true);
    expect(r).toMatchObject({ skipped: true, step: 1 });
    expect(weights(flow)).toEqual(before);
    poison = false;
    expect(trainer.stepSync(x!)).toMatchObject({ skipped: false, step: 2 });
    expect(trainer.skippedSteps).toBe(1);
    expect(trainer.getState().optimizer.step).toBe(2);
  });

  it('leaks no tensors over 1,000 steps', async () => {
    const flow = track(makeTinyFlow(DIM));
    const trainer = track(
      new Trainer(flow, { schedule: { kind: 'cosine', warmupSteps: 10, decaySteps: 1000 } }),
    );
    const data = batches(5, 4, 32).map(track);
    await trainer.step(data[0]!);
    const before = tf.memory().numTensors;
    for (let s = 0; s < 1000; s++) await trainer.step(data[s % data.length]!);
    expect(tf.memory().numTensors).toBe(before);
    expect(trainer.stepCount).toBe(1001);
  });

  it('restored training (weights + optimizer state) equals uninterrupted training', async () => {
    const options: TrainerOptions = {
      learningRate: 0.03,
      weightDecay: 0.01,
      excludeVectorsFromDecay: false,
      schedule: { kind: 'cosine', warmupSteps: 5, decaySteps: 40, floor: 0.001 },
    };
    const data = batches(6, 5).map(track);
    const N = 20;
    const runA = track(untrainedFlow());
    const a = track(new Trainer(runA, options));
    const lossesA: number[] = [];
    for (let s = 0; s < 2 * N; s++) lossesA.push((await a.step(data[s % data.length]!)).loss);

    const runB = untrainedFlow();
    const b = new Trainer(runB, options);
    const lossesB: number[] = [];
    for (let s = 0; s < N; s++) lossesB.push((await b.step(data[s % data.length]!)).loss);
    const saved = JSON.parse(JSON.stringify({ flow: runB.toJSON(), trainer: b.getState() })) as {
      flow: unknown;
      trainer: unknown;
    };
    b.dispose();
    runB.dispose();
    const runC = track(tinyFlowFromJSON(saved.flow));
    const c = track(new Trainer(runC, options));
    c.setState(saved.trainer);
    expect(c.stepCount).toBe(N);
    for (let s = N; s < 2 * N; s++) lossesB.push((await c.step(data[s % data.length]!)).loss);
    for (const [i, l] of lossesA.entries()) expect(Math.abs(lossesB[i]! - l)).toBeLessThanOrEqual(1e-6);
    expect(weights(runC)).toEqual(weights(runA));
  });

  it('fit samples minibatches with the seeded rng, from a tensor or raw rows alike', async () => {
    const rows = gaussianRows(createRng(8), 200);
    const results: StepResult[] = [];
    const run = async (data: Float32Array | tf.Tensor2D): Promise<number[]> => {
      const flow = track(untrainedFlow());
      const trainer = track(new Trainer(flow, { learningRate: 0.05 }));
      const r = await trainer.fit(data, {
        steps: 30,
        batchSize: 16,
        rng: createRng(9),
        onStep: (s) => {
          results.push(s);
        },
      });
      expect(r.skippedSteps).toBe(0);
      return r.losses;
    };
    const fromRows = await run(rows);
    const fromTensor = await run(track(tf.tensor2d(rows, [200, DIM])));
    expect(fromRows).toHaveLength(30);
    expect(fromTensor).toEqual(fromRows);
    expect(results.map((r) => r.step)).toEqual([...Array(30).keys(), ...Array(30).keys()].map((i) => i + 1));
    expect(fromRows[29]!).toBeLessThan(fromRows[0]!);
  });

  it('step and stepSync give identical results', async () => {
    const data = batches(10, 3).map(track);
    const [fa, fb] = [track(untrainedFlow()), track(untrainedFlow())];
    const [ta, tb] = [track(new Trainer(fa)), track(new Trainer(fb))];
    for (const x of data) expect(await ta.step(x)).toEqual(tb.stepSync(x));
  });

  it('validates options, state and misuse', async () => {
    const flow = track(makeTinyFlow(DIM));
    for (const o of [
      { learningRate: 0 },
      { learningRate: Number.NaN },
      { betas: [0.9] as unknown as [number, number] },
      { betas: [0.9, 1] as [number, number] },
      { epsilon: -1 },
      { weightDecay: -1 },
      { clipNorm: Number.NaN },
      { learningRate: 0.1, schedule: () => 0.1 },
      { schedule: { kind: 'cosine', decaySteps: 0 } },
    ] as TrainerOptions[]) {
      expect(() => new Trainer(flow, o), JSON.stringify(o)).toThrow(InvalidOptionError);
    }
    const trainer = track(new Trainer(flow, { schedule: () => Number.NaN }));
    const [x] = batches(11, 1).map(track);
    expect(() => trainer.stepSync(x!)).toThrow(/schedule returned/);
    const good = new Trainer(flow);
    const state = good.getState();
    for (const bad of [
      { ...state, format: 'x' },
      { ...state, version: 3 },
      { ...state, step: -1 },
      { ...state, step: 4 },
    ]) {
      expect(() => good.setState(bad)).toThrow(SerializationError);
    }
    await expect(
      good.fit(new Float32Array(7), { steps: 1, batchSize: 1, rng: createRng(1) }),
    ).rejects.toThrow(InvalidOptionError);
    await expect(
      good.fit(new Float32Array(6), { steps: 0, batchSize: 1, rng: createRng(1) }),
    ).rejects.toThrow(InvalidOptionError);
    const pending = good.step(x!);
    expect(() => good.stepSync(x!)).toThrow(TrainerError);
    await pending;
    const original = flow.trainableVariables.bind(flow);
    flow.trainableVariables = () => original().slice(1);
    expect(() => good.stepSync(x!)).toThrow(TrainerError);
    flow.trainableVariables = original;
    good.dispose();
    expect(() => good.stepSync(x!)).toThrow(TrainerError);
    expect(() => good.getState()).toThrow(TrainerError);
  });
});
