/** Flow builders (realNVP, maf, splineFlow, buildFlow): structure, identity start, validation, JSON. */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { InvalidOptionError } from '../../src/errors.js';
import { buildFlow, type FlowSpecOptions, maf, realNVP, splineFlow } from '../../src/flow/builders.js';
import { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import { reviveModule } from '../../src/flow/registry.js';
import * as tf from '../../src/flow/tf.js';
import { randomBatch, tensorDelta } from '../helpers/flow-checks.js';

const SPECS: FlowSpecOptions[] = [
  { type: 'realnvp', dim: 3, layers: 4, hidden: 8, seed: 1 },
  { type: 'maf', dim: 3, layers: 3, hidden: [8, 8], seed: 1 },
  { type: 'spline', dim: 3, layers: 2, hidden: 8, bins: 4, bound: 3, seed: 1 },
];

describe('flow builders', () => {
  it('stack the right transforms with alternating masks and orders into a standard-normal prior', () => {
    const nvp = realNVP({ dim: 3, layers: 4, hidden: 8 });
    expect(nvp.prior.kind).toBe('standard-normal');
    expect(nvp.flows.map((f) => [f.kind, f.toJSON().config.parity])).toEqual([
      ['affine-coupling', 0],
      ['affine-coupling', 1],
      ['affine-coupling', 0],
      ['affine-coupling', 1],
    ]);
    const m = maf({ dim: 3, layers: 3, hidden: 8 });
    expect(m.flows.map((f) => [f.kind, f.toJSON().config.order])).toEqual([
      ['maf', 'natural'],
      ['maf', 'reversed'],
      ['maf', 'natural'],
    ]);
    const s = splineFlow({ dim: 3, layers: 2, hidden: 8, bins: 5, bound: 2 });
    expect(s.flows.map((f) => [f.kind, f.toJSON().config.parity, f.toJSON().config.bins])).toEqual([
      ['spline-coupling', 0, 5],
      ['spline-coupling', 1, 5],
    ]);
    for (const f of [nvp, m, s]) f.dispose();
  });

  it.each(SPECS)('buildFlow($type) starts as N(0, I), is seeded, and round-trips through JSON', (spec) => {
    const flow = buildFlow(spec);
    const x = randomBatch(createRng(2), 64, spec.dim, 1.5);
    const got = tf.tidy(() => flow.score(x).arraySync());
    const want = tf.tidy(
      () =>
        tf.sub(tf.mul(-0.5, tf.sum(tf.square(x), 1)), 1.5 * Math.log(2 * Math.PI)).arraySync() as number[],
    );
    for (const [i, v] of got.entries()) expect(v).toBeCloseTo(want[i]!, 4);

    const again = buildFlow(spec);
    expect(again.toJSON()).toEqual(flow.toJSON());
    const other = buildFlow({ ...spec, seed: 2 });
    expect(other.toJSON()).not.toEqual(flow.toJSON());

    // Perturb, then check that the revived flow scores identically.
    for (const v of flow.trainableVariables())
      tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.1, 'float32', 3))));
    const revived = NormalizingFlow.fromJSON(JSON.parse(JSON.stringify(flow.toJSON())), reviveModule);
    const a = tf.tidy(() => flow.score(x).arraySync());
    expect(tf.tidy(() => revived.score(x).arraySync())).toEqual(a);
    expect(Math.max(...a.map((v, i) => Math.abs(v - want[i]!)))).toBeGreaterThan(1e-3);
    for (const f of [flow, again, other, revived]) f.dispose();
    x.dispose();
  });

  it('allocate nothing that dispose() does not free', () => {
    const delta = tensorDelta(() => {
      for (const spec of SPECS) buildFlow(spec).dispose();
    });
    expect(delta).toBe(0);
  });
});

describe('builder validation', () => {
  const bad: [string, () => unknown][] = [
    ['realNVP dim 0', () => realNVP({ dim: 0 })],
    ['realNVP layers 0', () => realNVP({ dim: 2, layers: 0 })],
    ['realNVP layers 1.5', () => realNVP({ dim: 2, layers: 1.5 })],
    ['realNVP hidden -1', () => realNVP({ dim: 2, hidden: -1 })],
    ['realNVP clamp 0', () => realNVP({ dim: 2, clamp: 0 })],
    ['realNVP seed 0.5', () => realNVP({ dim: 2, seed: 0.5 })],
    ['realNVP maxAbsInput 0', () => realNVP({ dim: 2, maxAbsInput: 0 })],
    ['realNVP activation', () => realNVP({ dim: 2, activation: 'swish' as 'tanh' })],
    ['maf hidden < dim − 1', () => maf({ dim: 10, hidden: 4 })],
    ['maf clamp NaN', () => maf({ dim: 2, clamp: Number.NaN })],
    ['splineFlow bins 1', () => splineFlow({ dim: 2, bins: 1 })],
    ['splineFlow bound -1', () => splineFlow({ dim: 2, bound: -1 })],
    ['buildFlow unknown type', () => buildFlow({ type: 'glow', dim: 2 } as unknown as FlowSpecOptions)],
    ['buildFlow missing type', () => buildFlow({ dim: 2 } as unknown as FlowSpecOptions)],
    [
      'buildFlow unknown key',
      () => buildFlow({ type: 'maf', dim: 2, hiden: 8 } as unknown as FlowSpecOptions),
    ],
    [
      'buildFlow key of another type',
      () => buildFlow({ type: 'realnvp', dim: 2, bins: 8 } as unknown as FlowSpecOptions),
    ],
    ['buildFlow null', () => buildFlow(null as unknown as FlowSpecOptions)],
  ];
  it.each(bad)('%s throws InvalidOptionError and allocates nothing', (_name, fn) => {
    const delta = tensorDelta(() => expect(fn).toThrow(InvalidOptionError));
    expect(delta).toBe(0);
  });

  it('names the builder and the offending option in the message', () => {
    expect(() => splineFlow({ dim: 2, bins: 1 })).toThrow(/splineFlow: bins must be an integer ≥ 2/);
    expect(() => buildFlow({ type: 'maf', dim: 2, hiden: 8 } as unknown as FlowSpecOptions)).toThrow(
      /unknown option\(s\) hiden/,
    );
  });
});
