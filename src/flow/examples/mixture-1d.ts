/**
 * The design's 1-D example: fit a 4-component mixture-CDF flow with a Beta(2, 5) prior to 750 points from a
 * known two-Gaussian mixture, and compare its NLL with the NLL of the true density on the same points and
 * on fresh points. Pure: config in, numbers out; randomness from seeded rngs; no printing.
 */

import { createRng, type Rng } from '../../core/rng.js';
import { InvalidOptionError } from '../../errors.js';
import { mixtureCdf1d } from '../builders-1d.js';
import * as tf from '../tf.js';
import { type FitFunction, fitFullBatch } from './full-batch-fit.js';

/** A 1-D Gaussian mixture: weights (summing to 1), means and standard deviations, data units. */
export interface GaussianMixture1d {
  readonly weights: readonly number[];
  readonly means: readonly number[];
  readonly stds: readonly number[];
}

/** The generating density of the example: 0.3·N(−2, 0.5²) + 0.7·N(1.5, 0.8²). */
export const EXAMPLE_TRUTH: GaussianMixture1d = { weights: [0.3, 0.7], means: [-2, 1.5], stds: [0.5, 0.8] };

/** Configuration of `runMixture1dExample`; every field has the design's default. */
export interface Mixture1dExampleConfig {
  /** Seed of the data (training and fresh sets come from one stream, in that order). Default 1. */
  readonly seed?: number;
  /** Training points. Default 750. */
  readonly trainSize?: number;
  /** Fresh evaluation points. Default 750. */
  readonly freshSize?: number;
  /** Mixture-CDF components. Default 4. */
  readonly components?: number;
  /** Beta prior shapes. Default 2 and 5. */
  readonly alpha?: number;
  readonly beta?: number;
  /** Full-batch AdamW steps. Default 600 (the gaps settle within ~0.02 nats by then). */
  readonly steps?: number;
  /** Default 5e-3. */
  readonly learningRate?: number;
  /** Default 1e-5. */
  readonly weightDecay?: number;
  /** Global-norm clip. Default 1. */
  readonly clipNorm?: number;
  /** Generating density. Default `EXAMPLE_TRUTH`. */
  readonly truth?: GaussianMixture1d;
}

/** Mean NLLs in nats per point; gaps are model minus truth (negative means the model fits better). */
export interface Mixture1dExampleResult {
  readonly trainNll: number;
  readonly trueTrainNll: number;
  readonly freshNll: number;
  readonly trueFreshNll: number;
  readonly gapTrain: number;
  readonly gapFresh: number;
}

/** `n` draws from `m` (float32-rounded, as the model sees them). */
export function sampleMixture1d(m: GaussianMixture1d, n: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    let k = 0;
    for (let acc = m.weights[0]!; u >= acc && k < m.weights.length - 1; acc += m.weights[k]!) k++;
    out[i] = m.means[k]! + m.stds[k]! * rng.normal();
  }
  return out;
}

/** Mean negative log-density of `xs` under `m`, float64, nats. */
export function mixtureNll1d(m: GaussianMixture1d, xs: Float32Array): number {
  let total = 0;
  for (const x of xs) {
    let p = 0;
    for (let k = 0; k < m.weights.length; k++) {
      const t = (x - m.means[k]!) / m.stds[k]!;
      p += (m.weights[k]! * Math.exp(-0.5 * t * t)) / (m.stds[k]! * Math.sqrt(2 * Math.PI));
    }
    total -= Math.log(p);
  }
  return total / xs.length;
}

function checkMixture(m: GaussianMixture1d): void {
  const k = m.weights.length;
  const sum = m.weights.reduce((a, b) => a + b, 0);
  const ok =
    k > 0 &&
    m.means.length === k &&
    m.stds.length === k &&
    m.weights.every((w) => w >= 0) &&
    m.stds.every((s) => s > 0) &&
    Math.abs(sum - 1) < 1e-9;
  if (!ok) {
    throw new InvalidOptionError(
      'truth must have equal-length weights (≥ 0, summing to 1), means and stds (> 0)',
    );
  }
}

function checkCount(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function modelNll(flow: ReturnType<typeof mixtureCdf1d>, xs: Float32Array): number {
  const nll = tf.tidy(() => flow.nll(tf.tensor2d(xs, [xs.length, 1])));
  const v = nll.dataSync()[0]!;
  nll.dispose();
  return v;
}

/**
 * Runs the example. `trainer` fits the flow in place (default: `fitFullBatch`, full-batch steps of the project
 * `Trainer`: AdamW, global-norm clipping).
 */
export function runMixture1dExample(
  config: Mixture1dExampleConfig = {},
  trainer: FitFunction = fitFullBatch,
): Mixture1dExampleResult {
  const truth = config.truth ?? EXAMPLE_TRUTH;
  checkMixture(truth);
  const seed = config.seed ?? 1;
  if (!Number.isInteger(seed)) throw new InvalidOptionError(`seed must be an integer, got ${seed}`);
  const rng = createRng(seed);
  const train = sampleMixture1d(truth, checkCount(config.trainSize ?? 750, 'trainSize'), rng);
  const fresh = sampleMixture1d(truth, checkCount(config.freshSize ?? 750, 'freshSize'), rng);
  const flow = mixtureCdf1d({
    components: config.components ?? 4,
    prior: 'beta',
    alpha: config.alpha ?? 2,
    beta: config.beta ?? 5,
    seed,
  });
  const x = tf.tensor2d(train, [train.length, 1]);
  try {
    flow.initialize(x);
    trainer(flow, x, {
      steps: config.steps ?? 600,
      learningRate: config.learningRate ?? 5e-3,
      weightDecay: config.weightDecay ?? 1e-5,
      clipNorm: config.clipNorm ?? 1,
    });
    const trainNll = modelNll(flow, train);
    const freshNll = modelNll(flow, fresh);
    const trueTrainNll = mixtureNll1d(truth, train);
    const trueFreshNll = mixtureNll1d(truth, fresh);
    return {
      trainNll,
      trueTrainNll,
      freshNll,
      trueFreshNll,
      gapTrain: trainNll - trueTrainNll,
      gapFresh: freshNll - trueFreshNll,
    };
  } finally {
    x.dispose();
    flow.dispose();
  }
}
