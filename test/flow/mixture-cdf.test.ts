import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/rng.js';
import { InvalidOptionError, SerializationError } from '../../src/errors.js';
import { fitFullBatch } from '../../src/flow/examples/full-batch-fit.js';
import { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import { Beta } from '../../src/flow/priors/beta.js';
import * as tf from '../../src/flow/tf.js';
import {
  MIXTURE_CDF_Z_EPS,
  MixtureCdf,
  type MixtureCdfOutput,
} from '../../src/flow/transforms/mixture-cdf.js';
import type { ModuleSpec } from '../../src/flow/types.js';
import { logDetError, passesTensorDelta, randomBatch, roundTripError } from '../helpers/flow-checks.js';

const OUTPUTS: MixtureCdfOutput[] = ['unit', 'logit'];

/** A mixture CDF with random weights, means ~ N(0, 1) and scales in [0.5, 1.5]. */
function randomMixture(dim: number, output: MixtureCdfOutput, rng: Rng, components = 4): MixtureCdf {
  const m = new MixtureCdf({ dim, components, output, rng });
  const size = dim * components;
  const fill = (f: () => number): tf.Tensor =>
    tf.tensor2d(Float32Array.from({ length: size }, f), [dim, components]);
  const [logits, means, logScales] = m.trainableVariables();
  for (const [v, f] of [
    [logits!, () => rng.normal()],
    [means!, () => rng.normal()],
    [logScales!, () => Math.log(0.5 + rng.uniform())],
  ] as const) {
    const t = fill(f);
    v.assign(t);
    t.dispose();
  }
  return m;
}

/** `[n, dim]` data whose columns are two-cluster mixtures, ±1.5 apart. */
function bimodal(rng: Rng, n: number, dim: number): tf.Tensor2D {
  const v = Float32Array.from(
    { length: n * dim },
    () => (rng.uniform() < 0.4 ? -1.5 : 1.5) + 0.6 * rng.normal(),
  );
  return tf.tensor2d(v, [n, dim]);
}

function forwardValues(m: MixtureCdf, x: tf.Tensor2D): { z: number[]; logDet: number[] } {
  return tf.tidy(() => {
    const r = m.forward(x);
    return { z: Array.from(r.z.dataSync()), logDet: Array.from(r.logDet.dataSync()) };
  });
}

describe('MixtureCdf invertibility (max |x − f⁻¹(f(x))| < 1e-4)', () => {
  for (const output of OUTPUTS) {
    it(`random parameters, dims 1..8, ${output} output`, () => {
      for (let dim = 1; dim <= 8; dim++) {
        const rng = createRng(100 + dim);
        const m = randomMixture(dim, output, rng);
        const x = randomBatch(rng, 64, dim, 1);
        expect(roundTripError(m, x)).toBeLessThan(1e-4);
        x.dispose();
        m.dispose();
      }
    });
  }

  it('trained parameters (60 AdamW steps, lr 2e-2, under a Beta(2, 5) prior), dims 1..8', () => {
    for (let dim = 1; dim <= 8; dim++) {
      const rng = createRng(200 + dim);
      const m = new MixtureCdf({ dim, components: 4, rng });
      const flow = new NormalizingFlow(new Beta({ dim, alpha: 2, beta: 5 }), [m]);
      const x = bimodal(rng, 128, dim);
      flow.initialize(x);
      const before = tf.tidy(() => flow.nll(x).dataSync()[0]!);
      fitFullBatch(flow, x, { steps: 60, learningRate: 2e-2, weightDecay: 1e-5, clipNorm: 1 });
      const after = tf.tidy(() => flow.nll(x).dataSync()[0]!);
      expect(after).toBeLessThan(before);
      expect(roundTripError(m, x)).toBeLessThan(1e-4);
      x.dispose();
      flow.dispose();
    }
  });
});

describe('MixtureCdf log-determinant vs autodiff Jacobian (< 1e-3)', () => {
  for (const output of OUTPUTS) {
    it(`dims 1..5, ${output} output`, () => {
      for (let dim = 1; dim <= 5; dim++) {
        const rng = createRng(300 + dim);
        const m = randomMixture(dim, output, rng);
        const x = randomBatch(rng, 8, dim, 1.5);
        expect(logDetError(m, x)).toBeLessThan(1e-3);
        x.dispose();
        m.dispose();
      }
    });
  }
});

describe('MixtureCdf outputs and boundaries', () => {
  it('unit output stays in [ε, 1 − ε] and is increasing; logit output equals logit of unit output', () => {
    const xs = tf.tensor2d([-1e5, -1e3, -20, -1, 0, 1, 20, 1e3, 1e5], [9, 1]);
    const unit = randomMixture(1, 'unit', createRng(5));
    const logit = MixtureCdf.fromJSON({
      ...unit.toJSON(),
      config: { ...unit.toJSON().config, output: 'logit' },
    });
    const u = forwardValues(unit, xs);
    const l = forwardValues(logit, xs);
    expect(Math.min(...u.z)).toBe(Math.fround(MIXTURE_CDF_Z_EPS));
    expect(Math.max(...u.z)).toBe(Math.fround(1 - MIXTURE_CDF_Z_EPS));
    for (let i = 1; i < u.z.length; i++) expect(u.z[i]!).toBeGreaterThanOrEqual(u.z[i - 1]!);
    for (let i = 1; i < l.z.length; i++) expect(l.z[i]!).toBeGreaterThan(l.z[i - 1]!);
    expect(l.z.every(Number.isFinite) && l.logDet.every(Number.isFinite)).toBe(true);
    expect(l.z[4]!).toBeCloseTo(Math.log(u.z[4]! / (1 - u.z[4]!)), 5);
    xs.dispose();
    unit.dispose();
    logit.dispose();
  });

  it('inverse maps out-of-range targets to finite points', () => {
    const unit = randomMixture(1, 'unit', createRng(6));
    const logit = randomMixture(1, 'logit', createRng(6));
    const zu = tf.tensor2d([-1, 0, 1e-30, 1, 2, Number.POSITIVE_INFINITY], [6, 1]);
    const zl = tf.tensor2d([-1e30, -1e6, 0, 1e6, 1e30], [5, 1]);
    const xu = tf.tidy(() => Array.from(unit.inverse(zu).dataSync()));
    const xl = tf.tidy(() => Array.from(logit.inverse(zl).dataSync()));
    expect(xu.every(Number.isFinite) && xl.every(Number.isFinite)).toBe(true);
    expect(xu[0]).toBe(xu[1]);
    expect(xu[3]).toBe(xu[4]);
    for (let i = 1; i < xl.length; i++) expect(xl[i]!).toBeGreaterThan(xl[i - 1]!);
    for (const t of [zu, zl]) t.dispose();
    unit.dispose();
    logit.dispose();
  });
});

describe('MixtureCdf initialisation', () => {
  it('initialize(x) puts the means at the (k + ½)/K quantiles of each column', () => {
    const m = new MixtureCdf({ dim: 2, components: 4 });
    const col0 = Array.from({ length: 100 }, (_, i) => i);
    const x = tf.tensor2d(
      col0.flatMap((v) => [v, -2 * v]),
      [100, 2],
    );
    m.initialize(x);
    const means = Array.from(m.trainableVariables()[1]!.dataSync());
    expect(means).toEqual([12, 37, 62, 87, -174, -124, -74, -24]);
    x.dispose();
    m.dispose();
  });

  it('initialize(x) ignores non-finite values and keeps a column that has none', () => {
    const m = new MixtureCdf({ dim: 2, components: 2 });
    const before = Array.from(m.trainableVariables()[1]!.dataSync());
    const x = tf.tensor2d([0, Number.NaN, Number.NaN, Number.POSITIVE_INFINITY, 4, Number.NaN], [3, 2]);
    m.initialize(x);
    const means = Array.from(m.trainableVariables()[1]!.dataSync());
    expect(means).toEqual([0, 4, before[2]!, before[3]!]);
    for (const v of m.trainableVariables())
      expect(Array.from(v.dataSync()).every(Number.isFinite)).toBe(true);
    x.dispose();
    m.dispose();
  });

  it('spreads seeded initial means over initRange', () => {
    const a = new MixtureCdf({ dim: 3, components: 5, initRange: [-10, 10], rng: createRng(4) });
    const b = new MixtureCdf({ dim: 3, components: 5, initRange: [-10, 10], rng: createRng(4) });
    const ma = Array.from(a.trainableVariables()[1]!.dataSync());
    expect(ma).toEqual(Array.from(b.trainableVariables()[1]!.dataSync()));
    expect(Math.min(...ma)).toBeLessThan(-6);
    expect(Math.max(...ma)).toBeGreaterThan(6);
    a.dispose();
    b.dispose();
  });

  it('validates options', () => {
    expect(() => new MixtureCdf({ dim: 0 })).toThrow(InvalidOptionError);
    expect(() => new MixtureCdf({ dim: 1, components: 0 })).toThrow(/components must be a positive integer/);
    expect(() => new MixtureCdf({ dim: 1, output: 'probit' as MixtureCdfOutput })).toThrow(
      InvalidOptionError,
    );
    expect(() => new MixtureCdf({ dim: 1, initRange: [1, -1] })).toThrow(/initRange/);
  });
});

describe('MixtureCdf serialization and hygiene', () => {
  it('round-trips exactly through JSON text', () => {
    const a = randomMixture(3, 'logit', createRng(8), 5);
    const spec = JSON.parse(JSON.stringify(a.toJSON())) as ModuleSpec;
    expect(spec.kind).toBe('mixture-cdf');
    expect(spec.config).toEqual({ dim: 3, components: 5, output: 'logit' });
    const b = MixtureCdf.fromJSON(spec);
    const x = randomBatch(createRng(1), 16, 3, 2);
    expect(forwardValues(b, x)).toEqual(forwardValues(a, x));
    x.dispose();
    a.dispose();
    b.dispose();
  });

  it('rejects bad specs with SerializationError', () => {
    const spec = new MixtureCdf({ dim: 2, components: 3 }).toJSON();
    const bad: unknown[] = [
      { ...spec, kind: 'affine' },
      { ...spec, config: { ...spec.config, components: 4 } },
      { ...spec, config: { ...spec.config, components: 0 } },
      { ...spec, config: { ...spec.config, output: 'probit' } },
      { ...spec, config: { dim: 2 } },
      { ...spec, weights: { logits: spec.weights.logits, means: spec.weights.means } },
    ];
    for (const s of bad) expect(() => MixtureCdf.fromJSON(s as ModuleSpec)).toThrow(SerializationError);
  });

  it('forward, inverse and initialize leak no tensors', () => {
    const m = randomMixture(2, 'unit', createRng(2));
    const x = randomBatch(createRng(3), 10, 2, 1);
    expect(passesTensorDelta(m, x)).toBe(0);
    x.dispose();
    m.dispose();
  });
});
