import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { InvalidOptionError, SerializationError } from '../../src/errors.js';
import { Beta } from '../../src/flow/priors/beta.js';
import { DiagNormal } from '../../src/flow/priors/diag-normal.js';
import { Logistic } from '../../src/flow/priors/logistic.js';
import { StandardNormal } from '../../src/flow/priors/standard-normal.js';
import { Uniform01 } from '../../src/flow/priors/uniform.js';
import * as tf from '../../src/flow/tf.js';
import type { ModuleSpec, Prior } from '../../src/flow/types.js';

const z = [
  [0.1, 0.5],
  [0.8, 0.3],
];

function logProbValues(p: Prior): number[] {
  return Array.from(tf.tidy(() => p.logProb(tf.tensor2d(z))).dataSync());
}

/** JSON text round trip, as a checkpoint file would do. */
function viaText(spec: ModuleSpec): ModuleSpec {
  return JSON.parse(JSON.stringify(spec)) as ModuleSpec;
}

describe('prior serialization', () => {
  const cases: [string, () => Prior, (s: ModuleSpec) => Prior][] = [
    ['standard-normal', () => new StandardNormal({ dim: 2 }), StandardNormal.fromJSON],
    [
      'diag-normal',
      () => new DiagNormal({ dim: 2, loc: [0.3, -1], logScale: [0.2, -0.7] }),
      DiagNormal.fromJSON,
    ],
    ['beta', () => new Beta({ dim: 2, alpha: 2, beta: 5 }), Beta.fromJSON],
    ['uniform', () => new Uniform01({ dim: 2 }), Uniform01.fromJSON],
    ['logistic', () => new Logistic({ dim: 2 }), Logistic.fromJSON],
  ];

  it.each(cases)('%s round-trips exactly through JSON text', (kind, make, revive) => {
    const a = make();
    expect(a.kind).toBe(kind);
    const spec = viaText(a.toJSON());
    expect(spec.kind).toBe(kind);
    const b = revive(spec);
    expect(b.dim).toBe(2);
    expect(logProbValues(b)).toEqual(logProbValues(a));
    const sa = a.sample(5, createRng(9));
    const sb = b.sample(5, createRng(9));
    expect(Array.from(sb.dataSync())).toEqual(Array.from(sa.dataSync()));
    sa.dispose();
    sb.dispose();
    a.dispose();
    b.dispose();
  });

  it('keeps trained DiagNormal weights', () => {
    const a = new DiagNormal({ dim: 2 });
    const [loc, logScale] = a.trainableVariables();
    loc!.assign(tf.tensor1d([1.25, -0.5]));
    logScale!.assign(tf.tensor1d([0.1, 0.9]));
    const b = DiagNormal.fromJSON(viaText(a.toJSON()));
    expect(Array.from(b.trainableVariables()[0]!.dataSync())).toEqual([1.25, -0.5]);
    expect(logProbValues(b)).toEqual(logProbValues(a));
    a.dispose();
    b.dispose();
  });

  it('rejects wrong kinds, bad configs and bad weights with SerializationError', () => {
    const good = new DiagNormal({ dim: 2 }).toJSON();
    const bad: [(s: ModuleSpec) => Prior, unknown][] = [
      [StandardNormal.fromJSON, { kind: 'beta', config: { dim: 2 }, weights: {} }],
      [StandardNormal.fromJSON, { kind: 'standard-normal', config: { dim: 0 }, weights: {} }],
      [Uniform01.fromJSON, { kind: 'uniform', config: { dim: 1.5 }, weights: {} }],
      [Logistic.fromJSON, { kind: 'logistic', config: null, weights: {} }],
      [Beta.fromJSON, { kind: 'beta', config: { dim: 1, alpha: -1, beta: 5 }, weights: {} }],
      [Beta.fromJSON, { kind: 'beta', config: { dim: 1, alpha: '2', beta: 5 }, weights: {} }],
      [DiagNormal.fromJSON, { ...good, weights: { loc: good.weights.loc } }],
      [DiagNormal.fromJSON, { ...good, config: { dim: 3 } }],
      [
        DiagNormal.fromJSON,
        { ...good, weights: { ...good.weights, loc: { ...good.weights.loc!, data: 'AAA' } } },
      ],
    ];
    for (const [revive, spec] of bad) expect(() => revive(spec as ModuleSpec)).toThrow(SerializationError);
    const nanLoc = new DiagNormal({ dim: 2 });
    nanLoc.trainableVariables()[0]!.assign(tf.tensor1d([Number.NaN, 0]));
    expect(() => DiagNormal.fromJSON(nanLoc.toJSON())).toThrow(/NaN/);
    nanLoc.dispose();
  });

  it('validates constructor options with InvalidOptionError', () => {
    expect(() => new StandardNormal({ dim: 0 })).toThrow(InvalidOptionError);
    expect(() => new Uniform01({ dim: -1 })).toThrow(InvalidOptionError);
    expect(() => new Logistic({ dim: 2.5 })).toThrow(InvalidOptionError);
    expect(() => new Beta({ dim: 1, alpha: 0, beta: 1 })).toThrow(/alpha must be a finite number > 0/);
    expect(() => new Beta({ dim: 1, alpha: 1, beta: Number.POSITIVE_INFINITY })).toThrow(InvalidOptionError);
    expect(() => new DiagNormal({ dim: 2, loc: [1, 2, 3] })).toThrow(/array of 2 finite numbers/);
    expect(() => new DiagNormal({ dim: 2, logScale: Number.NaN })).toThrow(InvalidOptionError);
    const p = new StandardNormal({ dim: 2 });
    expect(() => p.sample(0, createRng(1))).toThrow(InvalidOptionError);
    const wrong = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => p.logProb(wrong)).toThrow(InvalidOptionError);
    wrong.dispose();
  });
});
