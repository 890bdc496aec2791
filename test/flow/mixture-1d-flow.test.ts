import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { InvalidOptionError } from '../../src/errors.js';
import { type Mixture1dPrior, mixtureCdf1d } from '../../src/flow/builders-1d.js';
import type { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import * as tf from '../../src/flow/tf.js';
import { tensorDelta } from '../helpers/flow-checks.js';

const PRIORS: Mixture1dPrior[] = ['beta', 'uniform', 'logistic'];

/** A 1-D mixture-CDF flow with random weights, means and scales (seeded). */
function randomFlow(prior: Mixture1dPrior, seed: number): NormalizingFlow {
  const flow = mixtureCdf1d({ prior, components: 4, seed, alpha: 2, beta: 5 });
  const rng = createRng(seed);
  const [logits, means, logScales] = flow.trainableVariables();
  const set = (v: tf.Variable, f: () => number): void => {
    const t = tf.tensor2d(Float32Array.from({ length: 4 }, f), [1, 4]);
    v.assign(t);
    t.dispose();
  };
  set(logits!, () => rng.normal());
  set(means!, () => 2 * rng.normal());
  set(logScales!, () => Math.log(0.3 + rng.uniform()));
  return flow;
}

function scores(flow: NormalizingFlow, xs: number[] | Float32Array): Float32Array {
  return tf.tidy(() => flow.score(tf.tensor2d(xs, [xs.length, 1]))).dataSync() as Float32Array;
}

describe('mixtureCdf1d density', () => {
  it.each(PRIORS)('integrates to 1 within 0.01 (%s prior, midpoint rule on [−30, 30])', (prior) => {
    for (const seed of [1, 2]) {
      const flow = randomFlow(prior, seed);
      const n = 120_000;
      const h = 60 / n;
      const lp = scores(
        flow,
        Float32Array.from({ length: n }, (_, i) => -30 + (i + 0.5) * h),
      );
      let mass = 0;
      for (const v of lp) mass += Math.exp(v);
      expect(Math.abs(mass * h - 1)).toBeLessThan(0.01);
      flow.dispose();
    }
  });

  it('builds the documented architecture and validates options', () => {
    const flow = mixtureCdf1d();
    const spec = flow.toJSON();
    expect(spec.prior).toMatchObject({ kind: 'beta', config: { dim: 1, alpha: 2, beta: 5 } });
    expect(spec.flows.map((f) => [f.kind, f.config])).toEqual([
      ['mixture-cdf', { dim: 1, components: 4, output: 'unit' }],
    ]);
    flow.dispose();
    const logistic = mixtureCdf1d({ prior: 'logistic', components: 2 });
    expect(logistic.toJSON().flows[0]!.config).toEqual({ dim: 1, components: 2, output: 'logit' });
    logistic.dispose();
    expect(() => mixtureCdf1d({ prior: 'cauchy' as Mixture1dPrior })).toThrow(InvalidOptionError);
    expect(() => mixtureCdf1d({ components: 0 })).toThrow(InvalidOptionError);
    expect(() => mixtureCdf1d({ alpha: -1 })).toThrow(InvalidOptionError);
    expect(() => mixtureCdf1d({ seed: 0.5 })).toThrow(InvalidOptionError);
  });
});

describe('mixtureCdf1d far tails', () => {
  const left = [-3, -10, -30, -100, -1e3, -1e4, -1e5];
  const right = left.map((v) => -v);

  it.each(PRIORS)(
    'log-likelihood is finite, very low and strictly decreasing outwards (%s prior)',
    (prior) => {
      const flow = randomFlow(prior, 3);
      for (const side of [left, right]) {
        const lp = Array.from(scores(flow, side));
        expect(lp.every(Number.isFinite)).toBe(true);
        for (let i = 1; i < lp.length; i++) expect(lp[i]!).toBeLessThan(lp[i - 1]!);
        // σ ≤ 1.3 here, so log p(±1e3) ≲ −1e3²/(2·1.3²) ≈ −3e5 and log p(±1e5) ≈ −3e9 (above LOG_PROB_FLOOR).
        expect(lp[4]!).toBeLessThan(-1e5);
        expect(lp[6]!).toBeLessThan(-1e9);
        expect(lp[6]!).toBeGreaterThan(-1e10);
      }
      flow.dispose();
    },
  );

  it.each(PRIORS)('gradients are finite at ±1e3 and ±1e5 (%s prior)', (prior) => {
    const flow = randomFlow(prior, 4);
    const x = tf.tensor2d([-1e5, -1e3, 1e3, 1e5], [4, 1]);
    const vars = flow.trainableVariables();
    const { value, grads } = tf.variableGrads(() => flow.nll(x), vars);
    expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
    for (const v of vars) expect(Array.from(grads[v.name]!.dataSync()).every(Number.isFinite)).toBe(true);
    const dx = tf.grad((xx: tf.Tensor) => flow.nll(xx as tf.Tensor2D))(x);
    expect(Array.from(dx.dataSync()).every(Number.isFinite)).toBe(true);
    for (const t of [value, dx, x, ...Object.values(grads)]) t.dispose();
    flow.dispose();
  });

  it('scoring leaks no tensors', () => {
    const flow = randomFlow('beta', 5);
    const x = tf.tensor2d([-1e5, 0, 2, 1e5], [4, 1]);
    expect(tensorDelta(() => flow.score(x).dispose())).toBe(0);
    x.dispose();
    flow.dispose();
  });
});
