/** Issue 14 item 1: the host optimizer (fused engine) against the in-graph AdamW and autodiff trainer. */
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/rng.js';
import { AdamW, type AdamWOptions } from '../../src/flow/adamw.js';
import { realNVP } from '../../src/flow/builders.js';
import { HostAdamW } from '../../src/flow/fused/host-adamw.js';
import type { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import * as tf from '../../src/flow/tf.js';
import { Trainer, type TrainerOptions } from '../../src/flow/trainer.js';
import { makeTinyFlow, type TinyAffine } from '../helpers/tiny-flow.js';
import { disposeAfterEach } from '../helpers/track.js';

const track = disposeAfterEach();

const SHAPES: number[][] = [[4, 3], [3], [2, 5], [1]];

function randomArray(rng: Rng, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

function weights(flow: NormalizingFlow): number[] {
  return flow.trainableVariables().flatMap((v) => Array.from(v.dataSync()));
}

/** Relative difference in the max norm: max |a − b| / max |b|. */
function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

function gaussianBatch(rng: Rng, n: number, dim: number): tf.Tensor2D {
  const v = new Float32Array(n * dim);
  for (let i = 0; i < v.length; i++) v[i] = (i % dim) - 1 + (0.5 + (i % dim)) * rng.normal();
  return tf.tensor2d(v, [n, dim]);
}

describe('HostAdamW', () => {
  it.each([
    { weightDecay: 0.01, excludeVectorsFromDecay: true },
    { weightDecay: 0.01, excludeVectorsFromDecay: false },
    { weightDecay: 0 },
  ])('matches the in-graph AdamW over 200 steps within 1e-5 relative (%o)', (o: AdamWOptions) => {
    const rng = createRng(3);
    const init = SHAPES.map((s) =>
      randomArray(
        rng,
        s.reduce((a, b) => a * b, 1),
        1,
      ),
    );
    const vars = SHAPES.map((s, i) => track(tf.variable(tf.tensor(init[i]!, s))));
    const graph = track(new AdamW(vars, o));
    const host = new HostAdamW(
      SHAPES.map((shape) => ({ shape })),
      o,
    );
    const theta = new Float32Array(init.flatMap((a) => Array.from(a)));
    for (let s = 0; s < 200; s++) {
      const g = init.map((a) => randomArray(rng, a.length, 0.1 + (s % 7)));
      tf.tidy(() =>
        graph.apply(
          g.map((a, i) => tf.tensor(a, SHAPES[i]!)),
          1e-2,
          tf.scalar(1),
        ),
      );
      host.apply(theta, new Float32Array(g.flatMap((a) => Array.from(a))), 1e-2);
    }
    const inGraph = vars.flatMap((v) => Array.from(v.dataSync()));
    expect(maxRelative(theta, inGraph)).toBeLessThan(1e-5);
    expect(host.step).toBe(200);
    const a = graph.getState();
    const b = host.getState();
    expect(b.step).toBe(a.step);
    expect(Object.keys(b.m)).toEqual(Object.keys(a.m));
  });

  it('reads the in-graph optimizer state (and its own) exactly', () => {
    const vars = SHAPES.map((s) => track(tf.variable(tf.ones(s))));
    const graph = track(new AdamW(vars, { weightDecay: 0.1 }));
    tf.tidy(() =>
      graph.apply(
        vars.map((v) => tf.onesLike(v)),
        0.1,
        tf.scalar(1),
      ),
    );
    const host = new HostAdamW(SHAPES.map((shape) => ({ shape })));
    host.setState(graph.getState());
    expect(host.getState()).toEqual(graph.getState());
    expect(() => host.setState({ ...graph.getState(), m: {} })).toThrow(/moments/);
  });
});

const ENGINE_CASES: { name: string; make: () => NormalizingFlow; options: TrainerOptions }[] = [
  { name: 'tiny affine', make: () => makeTinyFlow(3), options: { learningRate: 0.01, weightDecay: 0.01 } },
  {
    name: 'realNVP 2×16',
    make: () => realNVP({ dim: 3, layers: 2, hidden: 16, seed: 5 }),
    options: { learningRate: 1e-3, weightDecay: 1e-5, clipNorm: 1 },
  },
];

describe('Trainer with the host optimizer (engine fused)', () => {
  it.each(ENGINE_CASES)('follows the autodiff trainer over 200 steps ($name)', ({ make, options }) => {
    const rng = createRng(11);
    const data = Array.from({ length: 5 }, () => track(gaussianBatch(rng, 64, 3)));
    const a = track(make());
    const b = track(make());
    const ta = track(new Trainer(a, { ...options, engine: 'autodiff' }));
    const tb = track(new Trainer(b, { ...options, engine: 'fused' }));
    for (let s = 0; s < 200; s++) {
      const ra = ta.stepSync(data[s % 5]!);
      const rb = tb.stepSync(data[s % 5]!);
      expect(rb.skipped).toBe(ra.skipped);
      expect(Math.abs(rb.loss - ra.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ra.loss)));
    }
    expect(maxRelative(weights(b), weights(a))).toBeLessThan(1e-4);
    expect(tb.stepCount).toBe(200);
    const restored = track(new Trainer(track(make()), { ...options, engine: 'autodiff' }));
    restored.setState(tb.getState());
    expect(restored.stepCount).toBe(200);
  });

  it('skips a non-finite step without touching weights, then resumes; leaks no tensors', () => {
    const flow = track(makeTinyFlow(3));
    const trainer = track(new Trainer(flow, { engine: 'fused', weightDecay: 0.01 }));
    const rng = createRng(4);
    const data = Array.from({ length: 2 }, () => track(gaussianBatch(rng, 32, 3)));
    trainer.stepSync(data[0]!);
    const before = weights(flow);
    const layer = flow.flows[0] as TinyAffine;
    layer.poison = true;
    const r = trainer.stepSync(data[1]!);
    expect(r).toMatchObject({ skipped: true, step: 1 });
    expect(weights(flow)).toEqual(before);
    layer.poison = false;
    const count = tf.memory().numTensors;
    for (let s = 0; s < 1000; s++) trainer.stepSync(data[s % 2]!);
    expect(tf.memory().numTensors).toBe(count);
    expect(trainer.stepCount).toBe(1001);
    expect(trainer.skippedSteps).toBe(1);
    expect(weights(flow).every(Number.isFinite)).toBe(true);
  });
});
