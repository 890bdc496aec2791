/** marginalCouplingFlow: the mixture-CDF marginal layer plus couplings (issue 15's joint-density default). */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { InvalidOptionError } from '../../src/errors.js';
import { marginalCouplingFlow } from '../../src/flow/builders-joint.js';
import { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import { Logistic } from '../../src/flow/priors/logistic.js';
import { reviveModule } from '../../src/flow/registry.js';
import * as tf from '../../src/flow/tf.js';
import { Trainer } from '../../src/flow/trainer.js';
import { MixtureCdf } from '../../src/flow/transforms/mixture-cdf.js';
import type { Bijector } from '../../src/flow/types.js';
import { randomizeWeights } from '../helpers/bijector-contract.js';
import { autodiffLogDet, randomBatch, tensorDelta } from '../helpers/flow-checks.js';

/** The whole transform stack as one bijector, for the log-det check. */
function stackOf(flow: NormalizingFlow): Bijector {
  const first = flow.flows[0]!;
  return {
    ...first,
    forward: (x: tf.Tensor2D) =>
      tf.tidy(() => {
        let z = x;
        let logDet: tf.Tensor1D = tf.zeros([x.shape[0]]);
        for (const f of flow.flows) {
          const r = f.forward(z);
          z = r.z;
          logDet = tf.add(logDet, r.logDet);
        }
        return { z, logDet };
      }),
  } as Bijector;
}

describe('marginalCouplingFlow', () => {
  it('stacks the mixture CDF (logit), shuffles and couplings into a Logistic prior', () => {
    const flow = marginalCouplingFlow({ dim: 5, layers: 4, hidden: 8, components: 3, seed: 1 });
    expect(flow.prior.kind).toBe('logistic');
    expect(flow.flows.map((f) => f.kind)).toEqual([
      'mixture-cdf',
      'affine-coupling',
      'affine-coupling',
      'permutation',
      'affine-coupling',
      'affine-coupling',
    ]);
    expect(flow.flows[0]!.toJSON().config).toMatchObject({ components: 3, output: 'logit' });
    flow.dispose();
  });

  it('starts as the independent-marginals model (the couplings are the identity)', () => {
    const x = randomBatch(createRng(4), 32, 3, 2);
    const joint = marginalCouplingFlow({ dim: 3, layers: 2, hidden: 8, components: 4, seed: 7 });
    const marginal = new NormalizingFlow(new Logistic({ dim: 3 }), [
      new MixtureCdf({ dim: 3, components: 4, output: 'logit', rng: createRng(7) }),
    ]);
    const a = tf.tidy(() => joint.score(x).arraySync());
    const b = tf.tidy(() => marginal.score(x).arraySync());
    for (const [i, v] of a.entries()) expect(v).toBeCloseTo(b[i]!, 4);
    for (const f of [joint, marginal]) f.dispose();
    x.dispose();
  });

  it('has the autodiff log-determinant with trained-looking weights, and round-trips through JSON', () => {
    const flow = marginalCouplingFlow({ dim: 4, layers: 3, hidden: 8, components: 3, seed: 2 });
    for (const f of flow.flows) randomizeWeights(f, createRng(3), 0.5);
    const x = randomBatch(createRng(5), 6, 4, 1.5);
    const stack = stackOf(flow);
    const own = tf.tidy(() => stack.forward(x).logDet.arraySync());
    const ref = autodiffLogDet(stack, x);
    for (const [i, v] of own.entries()) expect(Math.abs(v - ref[i]!)).toBeLessThan(2e-3 * (1 + Math.abs(v)));
    const revived = NormalizingFlow.fromJSON(JSON.parse(JSON.stringify(flow.toJSON())), reviveModule);
    expect(tf.tidy(() => revived.score(x).arraySync())).toEqual(tf.tidy(() => flow.score(x).arraySync()));
    for (const f of [flow, revived]) f.dispose();
    x.dispose();
  });

  it('learns a correlation the marginals cannot see, with finite gradients and a flat tensor count', async () => {
    const rng = createRng(11);
    const n = 256;
    const v = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const t = rng.normal();
      v[2 * i] = t;
      v[2 * i + 1] = t + 0.2 * rng.normal();
    }
    const x = tf.tensor2d(v, [n, 2]);
    const flow = marginalCouplingFlow({ dim: 2, layers: 2, hidden: 16, components: 4, seed: 3 });
    flow.initialize(x);
    const trainer = new Trainer(flow, { learningRate: 0.02 });
    const on = tf.tensor2d([0.5, 0.5, -1, -1], [2, 2]);
    const off = tf.tensor2d([0.5, -0.5, -1, 1], [2, 2]);
    const gap = () => tf.tidy(() => tf.mean(tf.sub(flow.score(on), flow.score(off))).dataSync()[0]!);
    const before = gap();
    await trainer.step(x); // first step allocates the optimizer slots
    const delta = tensorDelta(() => {
      for (let s = 0; s < 80; s++) {
        const r = trainer.stepSync(x);
        expect(Number.isFinite(r.loss)).toBe(true);
        expect(Number.isFinite(r.gradNorm)).toBe(true);
      }
    });
    expect(delta).toBe(0);
    expect(before).toBeLessThan(0.5);
    expect(gap()).toBeGreaterThan(3);
    trainer.dispose();
    for (const t of [x, on, off]) t.dispose();
    flow.dispose();
  });

  it('rejects bad options and allocates nothing', () => {
    const delta = tensorDelta(() => {
      expect(() => marginalCouplingFlow({ dim: 0 })).toThrow(InvalidOptionError);
      expect(() => marginalCouplingFlow({ dim: 2, layers: -1 })).toThrow(/layers/);
      expect(() => marginalCouplingFlow({ dim: 2, components: 0 })).toThrow(/components/);
      expect(() => marginalCouplingFlow({ dim: 2, seed: 0.5 })).toThrow(/seed/);
    });
    expect(delta).toBe(0);
  });
});
