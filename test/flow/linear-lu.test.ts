/** Behaviour specific to LULinear: the W = Π·L·U structure, masking, init, validation and training. */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { InvalidOptionError, SerializationError } from '../../src/errors.js';
import { decodeValues } from '../../src/flow/tensor-codec.js';
import * as tf from '../../src/flow/tf.js';
import { invertPLU, matMul64 } from '../../src/flow/transforms/lu-inverse.js';
import { LULinear } from '../../src/flow/transforms/lu-linear.js';
import { logAbsDet, randomBatch, roundTripError, tensorDelta } from '../helpers/flow-checks.js';
import { perturb } from './elementwise-cases.js';

/** Dense float64 W = Π·L·U and bias rebuilt from the serialized weights, independently of the layer. */
function denseFromSpec(layer: LULinear): { w: number[][]; bias: number[] } {
  const spec = layer.toJSON();
  const d = layer.dim;
  const read = (name: string): Float32Array => decodeValues(spec.weights[name]!, name);
  const [lower, upper, logDiag, bias] = [read('lower'), read('upper'), read('logDiag'), read('bias')];
  const l = (i: number, k: number): number => (k < i ? lower[i * d + k]! : k === i ? 1 : 0);
  const u = (k: number, j: number): number =>
    j > k ? upper[k * d + j]! : j === k ? Math.exp(logDiag[k]!) : 0;
  const lu = Array.from({ length: d }, (_, i) =>
    Array.from({ length: d }, (_, j) => {
      let acc = 0;
      for (let k = 0; k < d; k++) acc += l(i, k) * u(k, j);
      return acc;
    }),
  );
  const perm = spec.config.perm as number[];
  return { w: perm.map((p) => [...lu[p]!]), bias: Array.from(bias) };
}

function randomLayer(dim: number, seed: number): LULinear {
  const rng = createRng(seed);
  const perm = Array.from({ length: dim }, (_, i) => (i * 3 + 1) % dim);
  const layer = new LULinear({ dim, perm: dim % 3 === 0 ? undefined : perm, rng, initScale: 0.1 });
  perturb(layer, rng, 0.3);
  return layer;
}

describe('LULinear', () => {
  it('starts as exactly the identity without an rng', () => {
    const layer = new LULinear({ dim: 3 });
    const x = randomBatch(createRng(1), 5, 3);
    const { z, logDet } = layer.forward(x);
    expect(z.arraySync()).toEqual(x.arraySync());
    expect(Array.from(logDet.dataSync())).toEqual([0, 0, 0, 0, 0]);
    tf.dispose([x, z, logDet]);
    layer.dispose();
  });

  it('computes z = x·Wᵀ + bias with W = Π·L·U and log|det W| per row', () => {
    for (const dim of [2, 4, 5]) {
      const layer = randomLayer(dim, 10 + dim);
      const x = randomBatch(createRng(dim), 6, dim);
      const { w, bias } = denseFromSpec(layer);
      const { z, logDet } = layer.forward(x);
      const xs = x.arraySync();
      const zs = z.arraySync();
      for (const [r, row] of xs.entries()) {
        for (let i = 0; i < dim; i++) {
          const expected = bias[i]! + row.reduce((acc, v, k) => acc + w[i]![k]! * v, 0);
          expect(zs[r]![i]).toBeCloseTo(expected, 4);
        }
      }
      for (const v of logDet.dataSync()) expect(v).toBeCloseTo(logAbsDet(w), 4);
      tf.dispose([x, z, logDet]);
      layer.dispose();
    }
  });

  it('ignores the masked (diagonal and opposite-triangle) entries of lower and upper', () => {
    const layer = randomLayer(4, 3);
    const x = randomBatch(createRng(4), 5, 4);
    const before = tf.tidy(() => layer.forward(x).z.arraySync());
    const [lower, upper] = layer.trainableVariables();
    // 7 on the diagonal and upper triangle of `lower`, and on the diagonal and lower triangle of `upper`.
    const junk = (keep: (i: number, j: number) => boolean): tf.Tensor2D =>
      tf.tensor2d(
        Array.from({ length: 4 }, (_, i) => Array.from({ length: 4 }, (_, j) => (keep(i, j) ? 0 : 7))),
      );
    for (const [v, keep] of [
      [lower!, (i: number, j: number) => j < i],
      [upper!, (i: number, j: number) => j > i],
    ] as const) {
      const mixed = tf.tidy(() => tf.add(v, junk(keep)));
      v.assign(mixed);
      mixed.dispose();
    }
    const after = tf.tidy(() => layer.forward(x).z.arraySync());
    for (const [r, row] of after.entries()) {
      for (const [i, v] of row.entries()) expect(v).toBeCloseTo(before[r]![i]!, 5);
    }
    x.dispose();
    layer.dispose();
  });

  it('inverts within 1e-4 in dims up to 32 with random parameters', () => {
    for (const dim of [12, 16, 32]) {
      const layer = randomLayer(dim, 20 + dim);
      const x = randomBatch(createRng(dim), 16, dim);
      expect(roundTripError(layer, x), `dim ${dim}`).toBeLessThan(1e-4);
      x.dispose();
      layer.dispose();
    }
  });

  it('invertPLU returns the float64 inverse of Π·L·U', () => {
    const rng = createRng(5);
    const d = 7;
    const perm = [3, 0, 6, 1, 5, 2, 4];
    const lower = Array.from({ length: d * d }, () => rng.normal());
    const upper = Array.from({ length: d * d }, () => rng.normal());
    const diag = Array.from({ length: d }, () => Math.exp(0.5 * rng.normal()));
    const lu = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let acc = 0;
        for (let k = 0; k <= Math.min(i, j); k++) {
          const l = k === i ? 1 : lower[i * d + k]!;
          const u = k === j ? diag[k]! : upper[k * d + j]!;
          acc += l * u;
        }
        lu[i * d + j] = acc;
      }
    }
    const w = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) w[i * d + j] = lu[perm[i]! * d + j]!;
    const product = matMul64(invertPLU(perm, lower, upper, diag), w, d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) expect(product[i * d + j]).toBeCloseTo(i === j ? 1 : 0, 9);
    }
  });

  it('draws its random init from the seeded rng', () => {
    const spec = (seed: number, initScale?: number): string => {
      const layer = new LULinear({ dim: 4, rng: createRng(seed), initScale });
      const s = JSON.stringify(layer.toJSON());
      layer.dispose();
      return s;
    };
    expect(spec(1)).toBe(spec(1));
    expect(spec(1)).not.toBe(spec(2));
    const identity = new LULinear({ dim: 4 });
    expect(spec(1, 0)).toBe(JSON.stringify(identity.toJSON()));
    identity.dispose();
  });

  it('rejects bad options with InvalidOptionError, allocating nothing', () => {
    const bad: unknown[] = [
      { dim: 0 },
      { dim: 2.5 },
      { dim: '3' },
      {},
      undefined,
      { dim: 3, perm: [0, 1] },
      { dim: 3, perm: [0, 1, 1] },
      { dim: 2, perm: [1, 2] },
      { dim: 2, initScale: -0.1 },
      { dim: 2, initScale: Number.NaN },
    ];
    for (const options of bad) {
      const delta = tensorDelta(() =>
        expect(() => new LULinear(options as { dim: number }), JSON.stringify(options)).toThrow(
          InvalidOptionError,
        ),
      );
      expect(delta).toBe(0);
    }
  });

  it('rejects a spec whose perm does not match its dim', () => {
    const layer = new LULinear({ dim: 3, perm: [2, 0, 1] });
    const spec = layer.toJSON();
    layer.dispose();
    for (const perm of [[0, 1], [0, 0, 1], undefined]) {
      expect(() => LULinear.fromJSON({ ...spec, config: { ...spec.config, perm } })).toThrow(
        SerializationError,
      );
    }
  });

  it('keeps its constants alive when built inside tf.tidy', () => {
    let built: LULinear | undefined;
    tf.tidy(() => {
      built = new LULinear({ dim: 3, perm: [1, 2, 0] });
    });
    const layer = built!;
    const x = tf.tensor2d([[1, 2, 3]]);
    expect(roundTripError(layer, x)).toBeLessThan(1e-6);
    const z = tf.tidy(() => layer.forward(x).z.arraySync());
    expect(z).toEqual([[2, 3, 1]]);
    x.dispose();
    layer.dispose();
  });

  it('learns to whiten correlated Gaussian data by maximum likelihood', () => {
    const rng = createRng(8);
    const n = 512;
    const raw = randomBatch(rng, n, 3);
    // Data = raw·Aᵀ + m with a fixed mixing matrix A; the optimum is z ~ N(0, I).
    const a = tf.tensor2d([
      [2, 0, 0],
      [1.5, 0.5, 0],
      [-1, 0.3, 0.8],
    ]);
    const data = tf.tidy(() =>
      tf.add(tf.matMul(raw, a, false, true), tf.tensor1d([3, -1, 0.5])),
    ) as tf.Tensor2D;
    const layer = new LULinear({ dim: 3, perm: [2, 0, 1], rng, initScale: 0.01 });
    const loss = (): tf.Scalar =>
      tf.tidy(() => {
        const { z, logDet } = layer.forward(data);
        return tf.mean(tf.sub(tf.mul(0.5, tf.sum(tf.square(z), 1)), logDet)) as tf.Scalar;
      });
    const read = (): number => {
      const l = loss();
      const v = l.dataSync()[0]!;
      l.dispose();
      return v;
    };
    const initial = read();
    const opt = tf.train.adam(0.05);
    for (let step = 0; step < 300; step++) {
      const cost = opt.minimize(loss, true, layer.trainableVariables());
      cost?.dispose();
    }
    const final = read();
    // Minimum over affine maps of the Gaussian NLL (without the 0.5·log 2π constant): d/2 + ½·log det Σ̂,
    // with Σ̂ the batch covariance.
    const cov = tf.tidy(() => {
      const centred = tf.sub(data, tf.mean(data, 0));
      return tf.div(tf.matMul(centred, centred, true, false), n).arraySync() as number[][];
    });
    const optimum = 1.5 + 0.5 * logAbsDet(cov);
    expect(initial - final).toBeGreaterThan(1);
    expect(final).toBeGreaterThan(optimum - 1e-3);
    expect(final).toBeLessThan(optimum + 0.01);
    opt.dispose();
    tf.dispose([raw, a, data]);
    layer.dispose();
  });
});
