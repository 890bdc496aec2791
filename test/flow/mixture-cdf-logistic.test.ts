/**
 * Issue 15 (sixth selection): `MixtureCdf` with logistic components (`family: 'logistic'`) on the tfjs
 * path: the analytic CDF and density, the log-determinant against the autodiff Jacobian, the inverse by
 * bisection, serialization, validation and tensor hygiene.
 */
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/rng.js';
import { InvalidOptionError, SerializationError } from '../../src/errors.js';
import * as tf from '../../src/flow/tf.js';
import {
  MixtureCdf,
  type MixtureCdfOutput,
  type MixtureFamily,
} from '../../src/flow/transforms/mixture-cdf.js';
import type { ModuleSpec } from '../../src/flow/types.js';
import { logDetError, passesTensorDelta, randomBatch, roundTripError } from '../helpers/flow-checks.js';

const OUTPUTS: MixtureCdfOutput[] = ['unit', 'logit'];

/** A logistic mixture CDF with random weights, means ~ N(0, 1) and scales in [0.5, 1.5]. */
function randomLogistic(dim: number, output: MixtureCdfOutput, rng: Rng, components = 4): MixtureCdf {
  const m = new MixtureCdf({ dim, components, output, family: 'logistic', rng });
  const size = dim * components;
  const [logits, means, logScales] = m.trainableVariables();
  for (const [v, f] of [
    [logits!, () => rng.normal()],
    [means!, () => rng.normal()],
    [logScales!, () => Math.log(0.5 + rng.uniform())],
  ] as const) {
    const t = tf.tensor2d(Float32Array.from({ length: size }, f), [dim, components]);
    v.assign(t);
    t.dispose();
  }
  return m;
}

const sigmoid = (t: number): number => 1 / (1 + Math.exp(-t));

/** F(x) and the density of column 0 in float64 from the layer's weights. */
function reference(m: MixtureCdf, x: number): { cdf: number; density: number } {
  const [logits, means, logScales] = m.trainableVariables().map((v) => Array.from(v.dataSync()));
  const k = m.components;
  const e = logits!.slice(0, k).map(Math.exp);
  const total = e.reduce((a, b) => a + b, 0);
  let cdf = 0;
  let density = 0;
  for (let c = 0; c < k; c++) {
    const s = Math.exp(logScales![c]!);
    const t = (x - means![c]!) / s;
    cdf += (e[c]! / total) * sigmoid(t);
    density += ((e[c]! / total) * sigmoid(t) * sigmoid(-t)) / s;
  }
  return { cdf, density };
}

function forwardValues(m: MixtureCdf, x: tf.Tensor2D): { z: number[]; logDet: number[] } {
  return tf.tidy(() => {
    const r = m.forward(x);
    return { z: Array.from(r.z.dataSync()), logDet: Array.from(r.logDet.dataSync()) };
  });
}

describe('MixtureCdf with logistic components', () => {
  it('computes the mixture of sigmoids and its density (unit and logit output, float64 reference)', () => {
    const unit = randomLogistic(1, 'unit', createRng(1), 3);
    const spec = unit.toJSON();
    const logit = MixtureCdf.fromJSON({ ...spec, config: { ...spec.config, output: 'logit' } });
    const xs = [-6, -2, -0.5, 0, 0.3, 1.7, 5];
    const x = tf.tensor2d(xs, [xs.length, 1]);
    const u = forwardValues(unit, x);
    const l = forwardValues(logit, x);
    xs.forEach((v, i) => {
      const { cdf, density } = reference(unit, v);
      expect(u.z[i]!).toBeCloseTo(cdf, 6);
      expect(u.logDet[i]!).toBeCloseTo(Math.log(density), 4);
      expect(l.z[i]!).toBeCloseTo(Math.log(cdf / (1 - cdf)), 4);
      expect(l.logDet[i]!).toBeCloseTo(Math.log(density / (cdf * (1 - cdf))), 4);
    });
    x.dispose();
    unit.dispose();
    logit.dispose();
  });

  it('has heavier tails than the Gaussian family: far-tail cost grows ≈ |t|, not ≈ t²/2', () => {
    const make = (family: MixtureFamily): MixtureCdf => {
      const m = new MixtureCdf({ dim: 1, components: 1, output: 'logit', family, initRange: [-1, 1] });
      const zero = tf.zeros([1, 1]);
      m.trainableVariables()[1]!.assign(zero);
      zero.dispose();
      return m;
    };
    const [g, l] = [make('gaussian'), make('logistic')];
    const x = tf.tensor2d([0, 20, 40], [3, 1]);
    const score = (m: MixtureCdf): number[] => {
      const { z, logDet } = forwardValues(m, x);
      // log p under the Logistic prior: −|y| − 2·log(1 + e^(−|y|)) + log-det.
      return z.map((y, i) => -Math.abs(y) - 2 * Math.log1p(Math.exp(-Math.abs(y))) + logDet[i]!);
    };
    const [pg, pl] = [score(g), score(l)];
    // One component at 0 of scale 2 (initRange [−1, 1]): 20 and 40 are t = 10 and 20.
    expect(pl[1]! - pl[2]!).toBeCloseTo(10, 2);
    expect(pg[1]! - pg[2]!).toBeCloseTo(150, 0);
    expect(pl.every(Number.isFinite) && pg.every(Number.isFinite)).toBe(true);
    x.dispose();
    g.dispose();
    l.dispose();
  });

  for (const output of OUTPUTS) {
    it(`inverts within 1e-4 and has the autodiff Jacobian's log-det within 1e-3 (dims 1..6, ${output})`, () => {
      for (let dim = 1; dim <= 6; dim++) {
        const rng = createRng(400 + dim);
        const m = randomLogistic(dim, output, rng);
        const x = randomBatch(rng, 48, dim, 1.5);
        expect(roundTripError(m, x)).toBeLessThan(1e-4);
        expect(logDetError(m, x)).toBeLessThan(1e-3);
        x.dispose();
        m.dispose();
      }
    });
  }

  it('inverts far-tail targets to finite, increasing points (the bracket reaches them)', () => {
    const m = randomLogistic(1, 'logit', createRng(9));
    const z = tf.tensor2d([-1e30, -80, -20, 0, 20, 80, 1e30], [7, 1]);
    const x = tf.tidy(() => Array.from(m.inverse(z).dataSync()));
    expect(x.every(Number.isFinite)).toBe(true);
    for (let i = 1; i < x.length; i++) expect(x[i]!).toBeGreaterThan(x[i - 1]!);
    // logit F = ±20 is ≈ t = ±20 of the nearest component: within 20·1.5 + a few of the means.
    const back = tf.tidy(() => Array.from(m.forward(tf.tensor2d([x[2]!, x[4]!], [2, 1])).z.dataSync()));
    expect(back[0]!).toBeCloseTo(-20, 3);
    expect(back[1]!).toBeCloseTo(20, 3);
    z.dispose();
    m.dispose();
  });

  it('round-trips through JSON with family "logistic"; a Gaussian spec has no family key', () => {
    const a = randomLogistic(3, 'logit', createRng(8), 5);
    const spec = JSON.parse(JSON.stringify(a.toJSON())) as ModuleSpec;
    expect(spec.config).toEqual({ dim: 3, components: 5, output: 'logit', family: 'logistic' });
    const b = MixtureCdf.fromJSON(spec);
    expect(b.family).toBe('logistic');
    const x = randomBatch(createRng(1), 16, 3, 2);
    expect(forwardValues(b, x)).toEqual(forwardValues(a, x));
    const g = new MixtureCdf({ dim: 2 });
    expect(g.toJSON().config).toEqual({ dim: 2, components: 4, output: 'unit' });
    expect(MixtureCdf.fromJSON(g.toJSON()).family).toBe('gaussian');
    for (const t of [x, a, b, g]) t.dispose();
  });

  it('rejects an unknown family in options and in specs', () => {
    expect(() => new MixtureCdf({ dim: 1, family: 'cauchy' as MixtureFamily })).toThrow(InvalidOptionError);
    expect(() => new MixtureCdf({ dim: 1, family: 'cauchy' as MixtureFamily })).toThrow(
      /family must be "gaussian" or "logistic", got "cauchy"/,
    );
    const spec = new MixtureCdf({ dim: 2 }).toJSON();
    for (const family of ['cauchy', 3]) {
      const bad = { ...spec, config: { ...spec.config, family } };
      expect(() => MixtureCdf.fromJSON(bad as ModuleSpec)).toThrow(SerializationError);
    }
  });

  it('forward, inverse and initialize leak no tensors', () => {
    for (const output of OUTPUTS) {
      const m = randomLogistic(2, output, createRng(2));
      const x = randomBatch(createRng(3), 10, 2, 1);
      expect(passesTensorDelta(m, x)).toBe(0);
      x.dispose();
      m.dispose();
    }
  });
});
