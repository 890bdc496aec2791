import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { InvalidOptionError, SerializationError } from '../../src/errors.js';
import { AdamW, type AdamWOptions, type AdamWState } from '../../src/flow/adamw.js';
import { decodeValues } from '../../src/flow/tensor-codec.js';
import * as tf from '../../src/flow/tf.js';
import { disposeAfterEach } from '../helpers/track.js';

/** Float64 AdamW reference over flat parameter arrays; `decays[i]` is the decay of parameter i. */
class RefAdamW {
  m: number[][];
  v: number[][];
  t = 0;
  constructor(
    readonly theta: number[][],
    readonly b1: number,
    readonly b2: number,
    readonly eps: number,
    readonly decays: number[],
  ) {
    this.m = theta.map((p) => p.map(() => 0));
    this.v = theta.map((p) => p.map(() => 0));
  }
  step(grads: number[][], lr: number): void {
    this.t++;
    const bc1 = 1 - this.b1 ** this.t;
    const bc2 = 1 - this.b2 ** this.t;
    for (const [i, p] of this.theta.entries()) {
      for (let k = 0; k < p.length; k++) {
        const g = grads[i]![k]!;
        const m = this.b1 * this.m[i]![k]! + (1 - this.b1) * g;
        const v = this.b2 * this.v[i]![k]! + (1 - this.b2) * g * g;
        this.m[i]![k] = m;
        this.v[i]![k] = v;
        const upd = m / bc1 / (Math.sqrt(v / bc2) + this.eps) + this.decays[i]! * p[k]!;
        p[k] = p[k]! - lr * upd;
      }
    }
  }
}

const SHAPES = [[2, 3], [3]] as const;
const rng = createRng(7);
const theta0 = SHAPES.map((s) =>
  Array.from({ length: s.reduce<number>((a, b) => a * b, 1) }, () => 2 + 2 * rng.uniform()),
);
const centre = theta0.map((p) => p.map(() => 2 * rng.uniform() - 1));
const curv = theta0.map((p) => p.map(() => 0.5 + 2 * rng.uniform()));

function makeVars(values: number[][] = theta0): tf.Variable[] {
  return values.map((p, i) => tf.variable(tf.tensor(p, [...SHAPES[i]!]), true));
}

/** Gradients of L = ½ Σ curv ⊙ (θ − centre)² via tfjs autodiff. */
function tfGrads(vars: tf.Variable[]): tf.Tensor[] {
  return tf.tidy(() => {
    const { grads } = tf.variableGrads(() => {
      const terms = vars.map((x, i) =>
        tf.sum(tf.mul(tf.tensor(curv[i]!, x.shape), tf.square(tf.sub(x, tf.tensor(centre[i]!, x.shape))))),
      );
      return tf.mul(0.5, tf.addN(terms)) as tf.Scalar;
    }, vars);
    return vars.map((x) => grads[x.name]!);
  });
}

function refGrads(theta: number[][]): number[][] {
  return theta.map((p, i) => p.map((x, k) => curv[i]![k]! * (x - centre[i]![k]!)));
}

function values(vars: tf.Variable[]): number[][] {
  return vars.map((x) => Array.from(x.dataSync()));
}

function expectClose(actual: number[][], expected: number[][], rel = 1e-5): void {
  for (const [i, p] of expected.entries()) {
    for (const [k, e] of p.entries()) {
      const a = actual[i]![k]!;
      expect(Math.abs(a - e), `param ${i}[${k}]: ${a} vs ${e}`).toBeLessThanOrEqual(rel * Math.abs(e));
    }
  }
}

function step(opt: AdamW, vars: tf.Variable[], lr: number, ok: boolean | number = true): void {
  tf.tidy(() => {
    const flag = typeof ok === 'boolean' ? tf.scalar(ok, 'bool') : tf.scalar(ok);
    opt.apply(tfGrads(vars), lr, flag);
  });
}

const track = disposeAfterEach();

describe('AdamW', () => {
  it.each([
    { weightDecay: 0.1, excludeVectorsFromDecay: true },
    { weightDecay: 0.1, excludeVectorsFromDecay: false },
    { weightDecay: 0 },
  ])('matches a float64 reference on a quadratic (%o)', (o: AdamWOptions) => {
    const vars = makeVars().map(track);
    const opt = track(new AdamW(vars, { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, ...o }));
    const wd = o.weightDecay ?? 0;
    const decays = SHAPES.map((s) => (o.excludeVectorsFromDecay !== false && s.length < 2 ? 0 : wd));
    const ref = new RefAdamW(
      theta0.map((p) => [...p]),
      0.9,
      0.99,
      1e-8,
      decays,
    );
    for (let s = 0; s < 12; s++) {
      const lr = 0.05 * (1 - s / 24);
      ref.step(refGrads(ref.theta), lr);
      step(opt, vars, lr);
      expectClose(values(vars), ref.theta);
    }
    expect(opt.stepCount()).toBe(12);
    const state = opt.getState();
    expectClose(
      SHAPES.map((_, i) => Array.from(decodeValues(state.m[`m/${i}`]!, 'm'))),
      ref.m,
    );
    expectClose(
      SHAPES.map((_, i) => Array.from(decodeValues(state.v[`v/${i}`]!, 'v'))),
      ref.v,
    );
  });

  it('skips the whole update in-graph when finite is false or 0, then resumes exactly', () => {
    const vars = makeVars().map(track);
    const opt = track(new AdamW(vars, { weightDecay: 0.05, excludeVectorsFromDecay: false }));
    const ref = new RefAdamW(
      theta0.map((p) => [...p]),
      0.9,
      0.999,
      1e-8,
      [0.05, 0.05],
    );
    ref.step(refGrads(ref.theta), 0.01);
    step(opt, vars, 0.01);
    const before = JSON.stringify(opt.getState());
    const weights = values(vars);
    tf.tidy(() => {
      const nan = vars.map((x) => tf.fill(x.shape, Number.NaN));
      opt.apply(nan, 0.01, tf.scalar(false, 'bool'));
      opt.apply(nan, 0.01, tf.scalar(0));
    });
    expect(values(vars)).toEqual(weights);
    expect(JSON.stringify(opt.getState())).toBe(before);
    expect(opt.stepCount()).toBe(1);
    ref.step(refGrads(ref.theta), 0.01);
    step(opt, vars, 0.01, 1);
    expectClose(values(vars), ref.theta);
    expect(values(vars).flat().every(Number.isFinite)).toBe(true);
  });

  it('creates its moments eagerly and leaks no tensors', () => {
    const vars = makeVars().map(track);
    const before = tf.memory().numTensors;
    const opt = new AdamW(vars);
    expect(tf.memory().numTensors).toBe(before + 2 * vars.length + 1);
    const mid = tf.memory().numTensors;
    for (let s = 0; s < 50; s++) step(opt, vars, 0.01, s % 7 !== 3);
    opt.getState();
    expect(tf.memory().numTensors).toBe(mid);
    opt.dispose();
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => opt.getState()).toThrow(InvalidOptionError);
  });

  it('round-trips its state through JSON: restored training equals uninterrupted training', () => {
    const opts: AdamWOptions = { beta1: 0.8, beta2: 0.95, epsilon: 1e-7, weightDecay: 0.02 };
    const a = makeVars().map(track);
    const optA = track(new AdamW(a, opts));
    for (let s = 0; s < 5; s++) step(optA, a, 0.02);
    const state = JSON.parse(JSON.stringify(optA.getState())) as unknown;
    const b = makeVars(values(a)).map(track);
    const optB = track(new AdamW(b));
    optB.setState(state);
    expect(optB.hyperparameters).toEqual({ ...opts, excludeVectorsFromDecay: true });
    expect(optB.stepCount()).toBe(5);
    for (let s = 0; s < 5; s++) {
      step(optA, a, 0.02);
      step(optB, b, 0.02);
    }
    expect(values(b)).toEqual(values(a));
  });

  it('rejects invalid states with SerializationError and stays unchanged', () => {
    const vars = makeVars().map(track);
    const opt = track(new AdamW(vars));
    step(opt, vars, 0.01);
    const good = opt.getState();
    const small = track(new AdamW([track(tf.variable(tf.zeros([3])))]));
    const wrongShape = track(
      new AdamW([track(tf.variable(tf.zeros([3, 2]))), track(tf.variable(tf.zeros([3])))]),
    );
    const corrupt = { ...good, v: { ...good.v, 'v/1': { ...good.v['v/1']!, data: 'AAAA' } } };
    const bad: unknown[] = [
      null,
      { ...good, format: 'other' },
      { ...good, version: 2 },
      { ...good, step: -1 },
      { ...good, step: 1.5 },
      { ...good, hyperparameters: { ...good.hyperparameters, beta1: 1 } },
      { ...good, hyperparameters: { beta1: 0.9 } },
      { ...good, m: undefined },
      { ...good, m: { 'm/0': good.m['m/0'] } },
      { ...good, m: { 'm/0': good.m['m/0'], 'm/1': 5 } },
      corrupt,
      small.getState(),
      wrongShape.getState(),
    ];
    const fresh = track(new AdamW(makeVars().map(track)));
    const snapshot = JSON.stringify(fresh.getState());
    for (const s of bad) {
      expect(() => fresh.setState(s)).toThrow(SerializationError);
      expect(JSON.stringify(fresh.getState())).toBe(snapshot);
    }
    const numTensors = tf.memory().numTensors;
    expect(() => fresh.setState(corrupt as AdamWState)).toThrow(/bytes/);
    expect(tf.memory().numTensors).toBe(numTensors);
  });

  it('validates its options and inputs', () => {
    const vars = makeVars().map(track);
    for (const o of [
      { beta1: 1 },
      { beta2: -0.1 },
      { epsilon: 0 },
      { epsilon: Number.POSITIVE_INFINITY },
      { weightDecay: -1 },
      { weightDecay: Number.NaN },
    ]) {
      expect(() => new AdamW(vars, o)).toThrow(InvalidOptionError);
    }
    expect(() => new AdamW([])).toThrow(InvalidOptionError);
    const opt = track(new AdamW(vars));
    tf.tidy(() => {
      const ok = tf.scalar(true, 'bool');
      const grads = vars.map((x) => tf.zerosLike(x));
      expect(() => opt.apply(grads.slice(1), 0.1, ok)).toThrow(/expected 2 gradients/);
      expect(() => opt.apply([grads[1]!, grads[0]!], 0.1, ok)).toThrow(InvalidOptionError);
      expect(() => opt.apply(grads, Number.NaN, ok)).toThrow(InvalidOptionError);
      expect(() => opt.apply(grads, -1, ok)).toThrow(InvalidOptionError);
    });
    expect(opt.stepCount()).toBe(0);
  });
});
