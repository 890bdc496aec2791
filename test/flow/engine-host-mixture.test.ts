/**
 * Issue 14 item 2 (the mixture-CDF step): the host engine's float64 scores and hand-written gradients of
 * mixture-CDF flows (`model.type: mixture-coupling`, `mixture-cdf`) against tfjs `flow.score` and autodiff.
 */
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/rng.js';
import { marginalCouplingFlow } from '../../src/flow/builders-joint.js';
import { HostFlow, hostGradients } from '../../src/flow/fused/host-flow.js';
import { hostPlanFor } from '../../src/flow/fused/host-plan.js';
import { LOG_PROB_FLOOR, NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import { Logistic } from '../../src/flow/priors/logistic.js';
import { StandardNormal } from '../../src/flow/priors/standard-normal.js';
import * as tf from '../../src/flow/tf.js';
import { ActNorm } from '../../src/flow/transforms/actnorm.js';
import { MixtureCdf } from '../../src/flow/transforms/mixture-cdf.js';
import { Permutation } from '../../src/flow/transforms/permutation.js';
import { disposeAfterEach } from '../helpers/track.js';
import { expectGradsClose, invalidRows, randomizeWeights } from './engine-cases.js';
import { autodiffLossAndGrads, hostLossAndGrads, normalRows, spreadMeans } from './host-mixture-cases.js';

const track = disposeAfterEach();

/** The config/tabular.yaml family with random weights (mixture means spread, so components differ). */
function randomFlow(
  dim: number,
  layers: number,
  components: number,
  rng: Rng,
  activation: 'tanh' | 'relu' = 'tanh',
): NormalizingFlow {
  const flow = marginalCouplingFlow({
    dim,
    components,
    layers,
    hidden: 8,
    activation,
    seed: dim * 7 + layers,
  });
  randomizeWeights(flow, rng, 0.4);
  spreadMeans(flow);
  return flow;
}

const CASES = [1, 2, 3, 5, 8, 16].flatMap((dim) =>
  [1, 2, 3, 4].map((layers) => ({
    dim,
    layers,
    components: 2 + ((dim + layers) % 4),
    activation: (dim + layers) % 3 === 0 ? ('relu' as const) : ('tanh' as const),
  })),
);

describe('host engine for mixture-CDF flows', () => {
  it.each(CASES)(
    'scores equal flow.score within 1e-5 (dim $dim, $layers couplings, K $components, $activation)',
    ({ dim, layers, components, activation }) => {
      const rng = createRng(dim * 31 + layers);
      const flow = track(randomFlow(dim, layers, components, rng, activation));
      const model = new HostFlow(hostPlanFor(flow)!, flow);
      for (const n of [1, 7, 64]) {
        const x = normalRows(rng, n, dim);
        const got = model.scoreHost(x, n);
        const ref = tf.tidy(() => flow.score(tf.tensor2d(x, [n, dim])).dataSync());
        for (let i = 0; i < n; i++) {
          expect(Math.abs(got[i]! - ref[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(ref[i]!)));
        }
      }
    },
  );

  it.each(CASES)(
    'gradients equal autodiff within 1e-4 relative (dim $dim, $layers couplings, K $components, $activation)',
    ({ dim, layers, components, activation }) => {
      const rng = createRng(dim * 13 + layers);
      const flow = track(randomFlow(dim, layers, components, rng, activation));
      const x = normalRows(rng, 48, dim);
      const ref = autodiffLossAndGrads(flow, x, 48);
      const got = hostLossAndGrads(flow, x, 48);
      expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(ref.loss)));
      expectGradsClose(got.grads, ref.grads, 1e-4);
    },
  );

  it('covers a mixture alone, ActNorm, permutations and a normal prior, and far-tail rows', () => {
    const rng = createRng(5);
    const dim = 4;
    const flows = [
      new NormalizingFlow(new Logistic({ dim }), [new MixtureCdf({ dim, components: 3, output: 'logit' })]),
      new NormalizingFlow(new StandardNormal({ dim }), [
        new MixtureCdf({ dim, components: 5, output: 'logit' }),
        new ActNorm({ dim }),
        Permutation.random(dim, rng),
      ]),
    ];
    for (const flow of flows) {
      track(flow);
      randomizeWeights(flow, rng, 0.5);
      const x = normalRows(rng, 40, dim, 4);
      x[3] = 60;
      x[9] = -45;
      const ref = autodiffLossAndGrads(flow, x, 40);
      const got = hostLossAndGrads(flow, x, 40);
      expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(ref.loss)));
      expectGradsClose(got.grads, ref.grads, 1e-4);
    }
  });

  it('floors invalid rows (NaN, Infinity, beyond maxAbsInput) and gives them no gradient, like nll', () => {
    const flow = track(randomFlow(3, 2, 4, createRng(8)));
    const x = invalidRows();
    const model = new HostFlow(hostPlanFor(flow)!, flow);
    const scores = model.scoreHost(x, 5);
    expect([scores[1], scores[2], scores[3]]).toEqual([LOG_PROB_FLOOR, LOG_PROB_FLOOR, LOG_PROB_FLOOR]);
    const ref = tf.tidy(() => flow.score(tf.tensor2d(x, [5, 3])).dataSync());
    for (const i of [0, 4]) expect(Math.abs(scores[i]! - ref[i]!)).toBeLessThan(1e-5 * Math.abs(ref[i]!));
    const a = autodiffLossAndGrads(flow, x, 5);
    const h = hostLossAndGrads(flow, x, 5);
    expect(Math.abs(h.loss - a.loss)).toBeLessThanOrEqual(1e-6 * Math.abs(a.loss));
    expectGradsClose(h.grads, a.grads, 1e-4);
  });

  it('gives the same packed loss and gradients through the tensor interface (GradientSource.launch)', () => {
    const rng = createRng(12);
    const flow = track(randomFlow(4, 2, 3, rng));
    const model = new HostFlow(hostPlanFor(flow)!, flow);
    const source = hostGradients(model);
    const x = normalRows(rng, 20, 4);
    const t = track(tf.tensor2d(x, [20, 4]));
    const packed = track(source.launch(t, model.store));
    expect(Array.from(packed.dataSync())).toEqual(Array.from(source.host!(x, 20, model.store)));
  });

  it('has no plan for flows without a mixture-CDF layer or with unit output', () => {
    const unit = track(
      new NormalizingFlow(new Logistic({ dim: 2 }), [new MixtureCdf({ dim: 2, output: 'unit' })]),
    );
    expect(hostPlanFor(unit)).toBeUndefined();
    const noMixture = track(new NormalizingFlow(new StandardNormal({ dim: 2 }), [new ActNorm({ dim: 2 })]));
    expect(hostPlanFor(noMixture)).toBeUndefined();
  });
});
