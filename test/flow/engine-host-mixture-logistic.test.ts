/**
 * Issue 15 (sixth selection): the host engine's scores and hand-written gradients of mixture-CDF flows
 * with logistic components (`family: 'logistic'`, `model.marginal: logistic`) against tfjs `flow.score`
 * and autodiff, on the linear-space and the far-tail log-space paths; the fused trainer against the
 * autodiff one, with a flat tensor count.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createRng, type Rng } from '../../src/core/rng.js';
import { buildModel } from '../../src/detector/factory.js';
import { marginalCouplingFlow } from '../../src/flow/builders-joint.js';
import { HostFlow } from '../../src/flow/fused/host-flow.js';
import { hostPlanFor } from '../../src/flow/fused/host-plan.js';
import { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import { StandardNormal } from '../../src/flow/priors/standard-normal.js';
import * as tf from '../../src/flow/tf.js';
import { Trainer } from '../../src/flow/trainer.js';
import { ActNorm } from '../../src/flow/transforms/actnorm.js';
import { MixtureCdf } from '../../src/flow/transforms/mixture-cdf.js';
import { disposeAfterEach } from '../helpers/track.js';
import { expectGradsClose, randomizeWeights } from './engine-cases.js';
import { autodiffLossAndGrads, hostLossAndGrads, normalRows, spreadMeans } from './host-mixture-cases.js';

const track = disposeAfterEach();

/** config/tabular.yaml's family with logistic marginals and random weights (means spread). */
function randomFlow(dim: number, layers: number, components: number, rng: Rng): NormalizingFlow {
  const flow = marginalCouplingFlow({ dim, components, layers, hidden: 8, family: 'logistic', seed: dim });
  randomizeWeights(flow, rng, 0.4);
  spreadMeans(flow);
  return flow;
}

function expectScoresClose(flow: NormalizingFlow, x: Float32Array, n: number): void {
  const got = new HostFlow(hostPlanFor(flow)!, flow).scoreHost(x, n);
  const ref = tf.tidy(() => flow.score(tf.tensor2d(x, [n, flow.dim])).dataSync());
  for (let i = 0; i < n; i++) {
    expect(Math.abs(got[i]! - ref[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(ref[i]!)));
  }
}

const CASES = [1, 2, 5, 8].flatMap((dim) =>
  [0, 1, 2, 3].map((layers) => ({ dim, layers, components: 1 + ((dim + layers) % 5) })),
);

describe('host engine for logistic-mixture flows', () => {
  it('is what model.marginal: logistic builds (mixture-coupling and mixture-cdf); absent gives Gaussian', () => {
    for (const type of ['mixture-coupling', 'mixture-cdf'] as const) {
      for (const marginal of ['logistic', 'gaussian', undefined] as const) {
        const model = loadConfig({
          env: {},
          overrides: { features: { fields: ['a'] }, model: { type, marginal } },
        }).model;
        const flow = track(buildModel(model, 3));
        expect((flow.flows[0] as MixtureCdf).family).toBe(marginal ?? 'gaussian');
      }
    }
  });

  it('plans the logistic family', () => {
    const flow = track(randomFlow(3, 2, 4, createRng(1)));
    const plan = hostPlanFor(flow)!;
    expect(plan.layers[0]).toMatchObject({ kind: 'mixture', family: 'logistic', components: 4 });
  });

  it.each(CASES)(
    'scores within 1e-5 and gradients within 1e-4 of autodiff (dim $dim, couplings $layers, K $components)',
    ({ dim, layers, components }) => {
      const rng = createRng(dim * 17 + layers);
      const flow = track(randomFlow(dim, layers, components, rng));
      for (const n of [1, 7, 64]) expectScoresClose(flow, normalRows(rng, n, dim), n);
      const x = normalRows(rng, 48, dim);
      const ref = autodiffLossAndGrads(flow, x, 48);
      const got = hostLossAndGrads(flow, x, 48);
      expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(ref.loss)));
      expectGradsClose(got.grads, ref.grads, 1e-4);
    },
  );

  it('matches autodiff on far-tail rows (the log-space path, |t| in the hundreds) with a normal prior', () => {
    const rng = createRng(5);
    const dim = 3;
    const flow = track(
      new NormalizingFlow(
        new StandardNormal({ dim }),
        [new MixtureCdf({ dim, components: 3, output: 'logit', family: 'logistic' }), new ActNorm({ dim })],
        { maxAbsInput: 1e6 },
      ),
    );
    randomizeWeights(flow, rng, 0.5);
    const x = normalRows(rng, 30, dim, 3);
    // Beyond |t| ≈ 345 from every component the linear sums underflow 1e-150.
    x[0] = 900;
    x[4] = -1200;
    x[8] = 420;
    x[13] = -3e4;
    expectScoresClose(flow, x, 30);
    const ref = autodiffLossAndGrads(flow, x, 30);
    const got = hostLossAndGrads(flow, x, 30);
    expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(ref.loss)));
    expectGradsClose(got.grads, ref.grads, 1e-4);
  });

  it('the fused trainer follows the autodiff trainer over 60 steps and keeps the tensor count flat', async () => {
    const rng = createRng(21);
    const data = Array.from({ length: 3 }, () => normalRows(rng, 128, 5));
    const make = (): NormalizingFlow =>
      track(
        marginalCouplingFlow({ dim: 5, components: 4, layers: 2, hidden: 8, family: 'logistic', seed: 3 }),
      );
    const [a, b] = [make(), make()];
    const options = { learningRate: 2e-3, weightDecay: 1e-5, clipNorm: 1 };
    const ta = track(new Trainer(a, { ...options, engine: 'autodiff' }));
    const tb = track(new Trainer(b, { ...options, engine: 'fused' }));
    expect(tb.usesHostEngine).toBe(true);
    await tb.stepRows(data[0]!, 128);
    await ta.stepRows(data[0]!, 128);
    const count = tf.memory().numTensors;
    for (let s = 1; s < 60; s++) {
      const la = (await ta.stepRows(data[s % 3]!, 128)).loss;
      const lb = (await tb.stepRows(data[s % 3]!, 128)).loss;
      expect(Math.abs(lb - la)).toBeLessThan(1e-3 * Math.max(1, Math.abs(la)));
      await tb.scoreRows(data[1]!, 64);
    }
    const wa = a.trainableVariables().flatMap((v) => Array.from(v.dataSync()));
    const wb = b.trainableVariables().flatMap((v) => Array.from(v.dataSync()));
    expect(Math.max(...wa.map((v, i) => Math.abs(v - wb[i]!)))).toBeLessThan(1e-3);
    expect(tf.memory().numTensors).toBe(count);
  });
});
