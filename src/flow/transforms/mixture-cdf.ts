import { createRng, type Rng } from '../../core/rng.js';
import { InvalidOptionError, SerializationError } from '../../errors.js';
import { encodeTensor } from '../tensor-codec.js';
import * as tf from '../tf.js';
import type { Bijector, ForwardResult, ModuleSpec } from '../types.js';
import {
  assignAndDispose,
  checkDim,
  checkInput,
  configDim,
  parseSpec,
  readFiniteWeight,
  reviveWith,
  trainableVariable,
} from './elementwise-common.js';
import { bisectInverse, type MixtureFamily, type MixtureParams, mixtureLogs } from './mixture-cdf-math.js';

export type { MixtureFamily } from './mixture-cdf-math.js';

/**
 * In `unit` output mode z is clamped to [MIXTURE_CDF_Z_EPS, 1 − MIXTURE_CDF_Z_EPS], ε = 2⁻²⁴ ≈ 5.96e-8, the
 * spacing of float32 just below 1 (so both z and 1 − z are exact, non-zero float32 numbers).
 * Consequence: beyond the point where the mixture CDF drops below ε (|t| ≳ 5.3 for the widest component),
 * the prior term saturates at its boundary value (and its gradient is 0) while the log-determinant, the
 * log mixture density, keeps decreasing ≈ −t²/2, so log p(x) stays finite and keeps falling in the tails.
 * `logit` output mode needs no clamp: it is computed from log z and log(1 − z) directly.
 */
export const MIXTURE_CDF_Z_EPS = 2 ** -24;

/** Where the transform maps to: (0, 1) for a Beta/Uniform prior, or ℝ via the logit for a Logistic prior. */
export type MixtureCdfOutput = 'unit' | 'logit';

/** Options of `MixtureCdf`. */
export interface MixtureCdfOptions {
  /** Number of data columns; every column gets its own mixture. */
  readonly dim: number;
  /** Components per column, K ≥ 1. Default 4. */
  readonly components?: number;
  /**
   * The components' family: `gaussian` (Φ; far-tail −log p ≈ t²/2) or `logistic` (σ; ≈ |t|, heavier
   * tails, as in Flow++). Default `gaussian`.
   */
  readonly family?: MixtureFamily;
  /** Output space, see `MixtureCdfOutput`. Default `unit`. */
  readonly output?: MixtureCdfOutput;
  /**
   * [low, high] over which the initial means are spread evenly (with a small seeded jitter), in data units.
   * Default [−3, 3]; `initialize(x)` replaces them by data quantiles.
   */
  readonly initRange?: readonly [number, number];
  /** Source of the jitter of the initial means. Default `createRng(0)`. */
  readonly rng?: Rng;
}

/** Component log-scales are clamped to ±MAX_ABS_LOG_SCALE (σ ∈ [6e-6, 1.6e5]) so t² cannot overflow. */
export const MAX_ABS_LOG_SCALE = 12;

/** The component families `MixtureCdf` accepts. */
export const MIXTURE_FAMILIES: readonly MixtureFamily[] = ['gaussian', 'logistic'];

function checkOptions(o: MixtureCdfOptions): {
  k: number;
  output: MixtureCdfOutput;
  family: MixtureFamily;
  range: [number, number];
} {
  const k = o.components ?? 4;
  if (!Number.isInteger(k) || k < 1) {
    throw new InvalidOptionError(`mixture-cdf: components must be a positive integer (e.g. 4), got ${k}`);
  }
  const output = o.output ?? 'unit';
  if (output !== 'unit' && output !== 'logit') {
    throw new InvalidOptionError(`mixture-cdf: output must be "unit" or "logit", got ${String(output)}`);
  }
  const family = o.family ?? 'gaussian';
  if (!MIXTURE_FAMILIES.includes(family)) {
    throw new InvalidOptionError(
      `mixture-cdf: family must be "gaussian" or "logistic", got ${JSON.stringify(family)}`,
    );
  }
  const range = o.initRange ?? [-3, 3];
  if (!(Number.isFinite(range[0]) && Number.isFinite(range[1]) && range[0] < range[1])) {
    throw new InvalidOptionError(
      `mixture-cdf: initRange must be [low, high] with finite low < high, got [${range.join(', ')}]`,
    );
  }
  return { k, output, family, range: [range[0], range[1]] };
}

/** Means at the (k + ½)/K quantiles of sorted finite values, and a common log-scale; undefined if empty. */
function quantileInit(sorted: Float64Array, k: number): { means: number[]; logScale: number } | undefined {
  const n = sorted.length;
  if (n === 0) return undefined;
  const mean = sorted.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  const means = Array.from(
    { length: k },
    (_, c) => sorted[Math.min(n - 1, Math.floor(((c + 0.5) / k) * n))]!,
  );
  return { means, logScale: Math.log(Math.max(std / Math.sqrt(k), 1e-3 * (1 + Math.abs(mean)))) };
}

/**
 * Elementwise mixture CDF ("GMMFlow"), Gaussian components by default: for each column j,
 *   z_j = F_j(x_j) = Σ_k π_jk·Φ((x_j − μ_jk)/σ_jk) ∈ (0, 1),
 *   log|dz_j/dx_j| = log Σ_k π_jk·N(x_j; μ_jk, σ_jk²),
 * with learnable logits (π = softmax), means and log-scales, all `[dim, K]`. With `family: 'logistic'`
 * Φ is the logistic sigmoid σ and N the logistic density σ(t)·σ(−t)/σ_jk: a far-tail value costs ≈ |t|
 * nats instead of ≈ t²/2, so among far-tail rows one extreme feature does not outweigh all the others.
 *
 * Tails: log z and log(1 − z) are log-sum-exps of log π_k + log Φ(±t_k) (`logNormalCdfPair`), and the
 * log-density a log-sum-exp of Gaussian log-densities, so every quantity is finite for finite x and an event
 * far outside the data gets a finite, very low log-likelihood (≈ −t²/2) with finite gradients.
 * Output: `unit` gives z clamped as documented at `MIXTURE_CDF_Z_EPS`; `logit` gives
 * y = log z − log(1 − z) with log|det| = log p_mix − log z − log(1 − z) (pair it with a Logistic prior).
 * Inverse: vectorised bisection on x, to ~2.5e-7 relative in x (far below 1e-6 in z).
 * Kind `mixture-cdf`; config `{dim, components, output}` and `family` when logistic (absent: Gaussian, as
 * in snapshots from before the option); weights `logits`, `means`, `logScales`.
 */
export class MixtureCdf implements Bijector {
  static readonly kind = 'mixture-cdf';
  readonly kind = MixtureCdf.kind;
  readonly dim: number;
  readonly components: number;
  readonly output: MixtureCdfOutput;
  readonly family: MixtureFamily;
  private readonly logits: tf.Variable;
  private readonly means: tf.Variable;
  private readonly logScales: tf.Variable;

  constructor(options: MixtureCdfOptions) {
    this.dim = checkDim(options?.dim, MixtureCdf.kind);
    const { k, output, family, range } = checkOptions(options);
    this.components = k;
    this.output = output;
    this.family = family;
    const [lo, hi] = range;
    const spacing = (hi - lo) / k;
    const rng = options.rng ?? createRng(0);
    const means = new Float32Array(this.dim * k);
    for (let j = 0; j < this.dim; j++) {
      for (let c = 0; c < k; c++) means[j * k + c] = lo + (c + 0.5 + 0.1 * rng.normal()) * spacing;
    }
    this.logits = trainableVariable(tf.zeros([this.dim, k]), 'mixture-cdf/logits');
    this.means = trainableVariable(tf.tensor2d(means, [this.dim, k]), 'mixture-cdf/means');
    this.logScales = trainableVariable(tf.fill([this.dim, k], Math.log(spacing)), 'mixture-cdf/logScales');
  }

  forward(x: tf.Tensor2D): ForwardResult {
    checkInput(x, this.dim, this.kind);
    const [z, logDet] = tf.tidy(() => {
      const { logZ, log1mZ, logDensity } = mixtureLogs(x, this.params());
      if (this.output === 'logit') {
        return [tf.sub(logZ, log1mZ), tf.sum(tf.sub(logDensity, tf.add(logZ, log1mZ)), 1)];
      }
      const zUnit = tf.clipByValue(tf.exp(logZ), MIXTURE_CDF_Z_EPS, 1 - MIXTURE_CDF_Z_EPS);
      return [zUnit, tf.sum(logDensity, 1)];
    });
    return { z: z as tf.Tensor2D, logDet: logDet as tf.Tensor1D };
  }

  /**
   * Solves F(x) = z by bisection. In `unit` mode z is first clamped to [ε, 1 − ε] (see
   * `MIXTURE_CDF_Z_EPS`), so inputs at or beyond 0 and 1 map to the finite clamp points.
   */
  inverse(z: tf.Tensor2D): tf.Tensor2D {
    checkInput(z, this.dim, this.kind);
    const target = tf.tidy(() => {
      if (this.output === 'logit') return tf.clipByValue(z, -1e15, 1e15);
      const c = tf.clipByValue(z, MIXTURE_CDF_Z_EPS, 1 - MIXTURE_CDF_Z_EPS);
      return tf.sub(tf.log(c), tf.log(tf.sub(1, c)));
    });
    const x = bisectInverse(target as tf.Tensor2D, () => this.params());
    target.dispose();
    return x;
  }

  /**
   * Data-dependent initialisation: per column, means at the (k + ½)/K quantiles of the finite values of `x`,
   * equal weights, and scales std/√K (at least 1e-3·(1 + |mean|)). A column without finite values keeps its
   * means and scales. Reads `x` once; keeps no reference to it.
   */
  initialize(x: tf.Tensor2D): void {
    checkInput(x, this.dim, this.kind);
    const values = x.dataSync() as Float32Array;
    const k = this.components;
    const means = this.means.dataSync().slice() as Float32Array;
    const logScales = this.logScales.dataSync().slice() as Float32Array;
    for (let j = 0; j < this.dim; j++) {
      const col = values.filter((v, i) => i % this.dim === j && Number.isFinite(v));
      const init = quantileInit(Float64Array.from(col).sort(), k);
      if (init === undefined) continue;
      means.set(init.means, j * k);
      logScales.fill(init.logScale, j * k, (j + 1) * k);
    }
    assignAndDispose(this.means, tf.tensor2d(means, [this.dim, k]));
    assignAndDispose(this.logScales, tf.tensor2d(logScales, [this.dim, k]));
    assignAndDispose(this.logits, tf.zeros([this.dim, k]));
  }

  trainableVariables(): tf.Variable[] {
    return [this.logits, this.means, this.logScales];
  }

  toJSON(): ModuleSpec {
    return {
      kind: this.kind,
      config: {
        dim: this.dim,
        components: this.components,
        output: this.output,
        ...(this.family === 'gaussian' ? {} : { family: this.family }),
      },
      weights: {
        logits: encodeTensor(this.logits),
        means: encodeTensor(this.means),
        logScales: encodeTensor(this.logScales),
      },
    };
  }

  /** Rebuilds from `toJSON` output; throws `SerializationError` on a wrong kind, config or weight. */
  static fromJSON(spec: ModuleSpec): MixtureCdf {
    const { config, weights } = parseSpec(spec, MixtureCdf.kind);
    const dim = configDim(config, MixtureCdf.kind);
    const { components, output, family = 'gaussian' } = config;
    if (typeof components !== 'number' || typeof output !== 'string' || typeof family !== 'string') {
      throw new SerializationError(
        'mixture-cdf: config.components must be a number, config.output and config.family strings',
      );
    }
    const flow = reviveWith(
      MixtureCdf.kind,
      () =>
        new MixtureCdf({
          dim,
          components,
          output: output as MixtureCdfOutput,
          family: family as MixtureFamily,
        }),
    );
    try {
      for (const name of ['logits', 'means', 'logScales'] as const) {
        assignAndDispose(flow[name], readFiniteWeight(weights, name, [dim, components]));
      }
    } catch (err) {
      flow.dispose();
      throw err;
    }
    return flow;
  }

  dispose(): void {
    this.logits.dispose();
    this.means.dispose();
    this.logScales.dispose();
  }

  /** Log-weights (normalised), means and clamped log-scales, `[dim, K]` each; differentiable. */
  private params(): MixtureParams {
    return {
      family: this.family,
      logWeights: tf.sub(this.logits, tf.logSumExp(this.logits, 1, true)) as tf.Tensor2D,
      means: this.means as tf.Tensor as tf.Tensor2D,
      logScales: tf.clipByValue(this.logScales, -MAX_ABS_LOG_SCALE, MAX_ABS_LOG_SCALE) as tf.Tensor2D,
    };
  }
}
