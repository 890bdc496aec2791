/**
 * Issue 15 (seventh selection): the `latent` score, log p_prior(f(x)) without the log-determinant, on
 * every scoring path (the tfjs reference `flow.latentScore`, the fused kernels as raw wasm calls and as
 * tfjs ops, the fused host scorer, the host engine of mixture-CDF flows, and `Trainer.scoreRows` on both
 * engines) equals the reference `flow.logProb(x).priorLogProb`, floors invalid rows like the density, and
 * leaves the tensor count flat. The density paths are unchanged (density − latent = the log-determinant).
 */
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/rng.js';
import { marginalCouplingFlow } from '../../src/flow/builders-joint.js';
import { FusedModel } from '../../src/flow/fused/fused-model.js';
import { HostFlow } from '../../src/flow/fused/host-flow.js';
import { hostPlanFor } from '../../src/flow/fused/host-plan.js';
import { planFor } from '../../src/flow/fused/plan.js';
import { LOG_PROB_FLOOR, NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import { StandardNormal } from '../../src/flow/priors/standard-normal.js';
import * as tf from '../../src/flow/tf.js';
import { Trainer } from '../../src/flow/trainer.js';
import { ActNorm } from '../../src/flow/transforms/actnorm.js';
import { MixtureCdf } from '../../src/flow/transforms/mixture-cdf.js';
import { Permutation } from '../../src/flow/transforms/permutation.js';
import type { ScoreKind } from '../../src/flow/types.js';
import { disposeAfterEach } from '../helpers/track.js';
import { caseFlows, invalidRows, randomizeWeights } from './engine-cases.js';

const track = disposeAfterEach();

function rows(rng: Rng, n: number, dim: number, scale = 1.5): Float32Array {
  return Float32Array.from({ length: n * dim }, () => scale * rng.normal());
}

/** The reference: log p_prior(f(x)) and the summed log-determinant from `flow.logProb`. */
function reference(flow: NormalizingFlow, x: Float32Array, n: number): { prior: number[]; logDet: number[] } {
  return tf.tidy(() => {
    const r = flow.logProb(tf.tensor2d(x, [n, flow.dim]));
    return {
      prior: Array.from(r.priorLogProb.dataSync()),
      logDet: Array.from(r.sumLogDet.dataSync()),
    };
  });
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, rel: number, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < b.length; i++) {
    const tol = rel * Math.max(1, Math.abs(b[i]!));
    expect(Math.abs(a[i]! - b[i]!), `${what}, row ${i}: ${a[i]} vs ${b[i]}`).toBeLessThanOrEqual(tol);
  }
}

/** `FusedModel`'s tfjs-op pass (its private `launchScore`), read back. */
function opsScore(model: FusedModel, x: Float32Array, n: number, kind: ScoreKind): Float32Array {
  const launch = (model as unknown as { launchScore(c: Float32Array, n: number, k: ScoreKind): tf.Tensor1D })
    .launchScore;
  const lp = launch.call(model, x, n, kind);
  try {
    return lp.dataSync() as Float32Array;
  } finally {
    lp.dispose();
  }
}

/** Mixture-CDF flows of the host engine: the tabular default's family (both marginals) and a normal prior. */
function mixtureFlows(dim: number, rng: Rng): NormalizingFlow[] {
  const flows = [
    marginalCouplingFlow({ dim, components: 4, layers: 2, hidden: 8, seed: dim }),
    marginalCouplingFlow({ dim, components: 3, layers: 2, hidden: 8, family: 'logistic', seed: dim }),
    new NormalizingFlow(new StandardNormal({ dim }), [
      new MixtureCdf({ dim, components: 5, output: 'logit' }),
      new ActNorm({ dim }),
      Permutation.random(dim, rng),
    ]),
  ];
  for (const f of flows) randomizeWeights(track(f), rng, 0.4);
  return flows;
}

describe('latent score: log p_prior(f(x)), no log-determinant', () => {
  it('flow.latentScore equals logProb().priorLogProb and density = latent + log-determinant', () => {
    const rng = createRng(1);
    const flow = caseFlows(4, 3, 'tanh', rng).map(track)[1]!;
    randomizeWeights(flow, rng);
    const x = rows(rng, 16, 4);
    const ref = reference(flow, x, 16);
    const latent = tf.tidy(() => Array.from(flow.latentScore(tf.tensor2d(x, [16, 4])).dataSync()));
    const density = tf.tidy(() => Array.from(flow.score(tf.tensor2d(x, [16, 4])).dataSync()));
    expectClose(latent, ref.prior, 1e-6, 'latentScore');
    expectClose(
      density,
      latent.map((v, i) => v + ref.logDet[i]!),
      1e-5,
      'density − latent',
    );
    // A non-zero log-determinant: the two scores really differ.
    expect(Math.max(...ref.logDet.map(Math.abs))).toBeGreaterThan(0.1);
  });

  it.each([
    { dim: 3, layers: 2, activation: 'relu' as const },
    { dim: 6, layers: 4, activation: 'tanh' as const },
  ])(
    'the fused kernels (raw wasm, tfjs ops) and the fused host scorer ($dim-d, $layers layers, $activation)',
    ({ dim, layers, activation }) => {
      const rng = createRng(dim * 7 + layers);
      for (const flow of caseFlows(dim, layers, activation, rng).map(track)) {
        randomizeWeights(flow, rng);
        const model = track(new FusedModel(planFor(flow)!, flow));
        model.refresh();
        for (const n of [1, 9, 64]) {
          const x = rows(rng, n, dim);
          const ref = reference(flow, x, n);
          expectClose(model.scoreSync(x, n, 'latent'), ref.prior, 1e-4, 'raw wasm');
          expectClose(opsScore(model, x, n, 'latent'), ref.prior, 1e-4, 'tfjs ops');
          expectClose(model.scoreHost(x, n, 'latent'), ref.prior, 1e-4, 'fused host');
          // The density is unchanged by the option.
          const density = ref.prior.map((v, i) => v + ref.logDet[i]!);
          expectClose(model.scoreSync(x, n), density, 1e-4, 'raw wasm density');
        }
      }
    },
  );

  it('the host engine of mixture-CDF flows, far-tail rows included', () => {
    const rng = createRng(5);
    const dim = 4;
    for (const flow of mixtureFlows(dim, rng)) {
      const model = new HostFlow(hostPlanFor(flow)!, flow);
      const x = rows(rng, 40, dim, 4);
      x[3] = 60;
      x[9] = -45;
      const ref = reference(flow, x, 40);
      expectClose(model.scoreHost(x, 40, 'latent'), ref.prior, 1e-4, `host ${flow.prior.kind}`);
      expectClose(
        model.scoreHost(x, 40),
        ref.prior.map((v, i) => v + ref.logDet[i]!),
        1e-4,
        `host density ${flow.prior.kind}`,
      );
      model.dispose();
    }
  });

  it('Trainer.scoreRows on both engines, with and without host scoring; invalid rows floored', async () => {
    const rng = createRng(9);
    const flows = [caseFlows(3, 2, 'tanh', rng)[0]!, mixtureFlows(3, rng)[0]!];
    for (const flow of flows) {
      track(flow);
      randomizeWeights(flow, rng, 0.4);
      const x = invalidRows();
      const ref = reference(flow, x, 5).prior;
      for (const [engine, hostScoreMaxRows] of [
        ['autodiff', 0],
        ['fused', 0],
        ['fused', 64],
      ] as const) {
        const trainer = track(new Trainer(flow, { engine, hostScoreMaxRows }));
        const latent = await trainer.scoreRows(x, 5, 'latent');
        expect(Array.from(latent.subarray(1, 4)), engine).toEqual([
          LOG_PROB_FLOOR,
          LOG_PROB_FLOOR,
          LOG_PROB_FLOOR,
        ]);
        expectClose([latent[0]!, latent[4]!], [ref[0]!, ref[4]!], 1e-4, `${engine}/${hostScoreMaxRows}`);
      }
    }
  });

  it('leaves the tensor count flat on every path', async () => {
    const rng = createRng(11);
    const flows = [caseFlows(4, 2, 'relu', rng)[1]!, mixtureFlows(4, rng)[0]!];
    for (const flow of flows) {
      track(flow);
      const x = rows(rng, 32, 4);
      for (const engine of ['autodiff', 'fused'] as const) {
        const trainer = track(new Trainer(flow, { engine }));
        await trainer.scoreRows(x, 32, 'latent');
        const before = tf.memory().numTensors;
        for (let i = 0; i < 10; i++) await trainer.scoreRows(x, 32, 'latent');
        tf.tidy(() => {
          flow.latentScore(tf.tensor2d(x, [32, 4]));
        });
        expect(tf.memory().numTensors, engine).toBe(before);
      }
    }
  });
});
