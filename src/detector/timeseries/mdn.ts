/**
 * The one-dimensional conditional flow of the conditional time-series mode: a mixture-CDF transform
 * z = F(y | c) onto a uniform prior, i.e. log p(y | c) = log Σ_k π_k(c)·N(y; μ_k(c), σ_k(c)²), with the
 * weights, means and scales from a one-hidden-layer tanh MLP of the context c (a mixture density network). Plain float64 on the host with hand-written gradients and AdamW: at these
 * sizes (a dozen inputs, 16–32 hidden units) a tfjs kernel launch costs more than the whole step.
 */
import type { Rng } from '../../core/rng.js';
import { InvalidOptionError } from '../../errors.js';

/** Options of `MixtureDensityNet`. */
export interface MdnOptions {
  /** Context length. */
  readonly inputs: number;
  /** Hidden tanh units. */
  readonly hidden: number;
  /** Mixture components. */
  readonly components: number;
  /** AdamW step size. */
  readonly learningRate: number;
  /** Gradient-norm clip of each step. */
  readonly clipNorm: number;
  /**
   * The last `seasonal` of the components are centred on the alternative target (`alt` of `logProb` and
   * `step`, e.g. the change over a day) instead of the target (absent = 0): a mixture of experts in two
   * frames whose weights the context sets. Both targets are x_t less a known value, in the same units,
   * so it is still a density of x_t.
   */
  readonly seasonal?: number;
}

/**
 * log σ of each component is kept in [−LOG_SCALE_BOUND, LOG_SCALE_BOUND] by a soft clamp: σ ≥ 0.05 target
 * units, so a quantised series (many identical steps) cannot grow a spike that makes every other step
 * look anomalous.
 */
const LOG_SCALE_BOUND = 3;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Problems of `o`, one message each (empty when valid). */
export function mdnOptionProblems(o: MdnOptions): string[] {
  const problems: string[] = [];
  for (const k of ['inputs', 'hidden', 'components'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) problems.push(`${k} must be an integer >= 1, got ${o[k]}`);
  }
  if (!(o.learningRate > 0)) problems.push(`learningRate must be > 0, got ${o.learningRate}`);
  if (!(o.clipNorm > 0)) problems.push(`clipNorm must be > 0, got ${o.clipNorm}`);
  const s = o.seasonal ?? 0;
  if (!Number.isInteger(s) || s < 0 || s >= o.components)
    problems.push(`seasonal must be an integer in [0, components), got ${s}`);
  return problems;
}

/** Mixture parameters of one context. */
interface Mixture {
  readonly h: Float64Array;
  /** log π_k, μ_k, log σ_k, and the raw log σ before the clamp. */
  readonly logPi: Float64Array;
  readonly mu: Float64Array;
  readonly logSigma: Float64Array;
  readonly rawSigma: Float64Array;
}

/** Conditional density p(y | c) = Σ_k π_k(c)·N(y; μ_k(c), σ_k(c)²), trained online by AdamW. */
export class MixtureDensityNet {
  readonly options: MdnOptions;
  /** Parameters in one vector: W1 [hidden × inputs], b1 [hidden], W2 [3K × hidden], b2 [3K]. */
  readonly params: Float64Array;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private readonly grad: Float64Array;
  private steps = 0;

  constructor(options: MdnOptions, rng: Rng) {
    const problems = mdnOptionProblems(options);
    if (problems.length > 0) throw new InvalidOptionError(`conditional model: ${problems.join('; ')}`);
    this.options = { ...options };
    const { inputs: d, hidden: h, components: k } = options;
    const n = h * d + h + 3 * k * h + 3 * k;
    this.params = new Float64Array(n);
    const a1 = Math.sqrt(6 / (d + h));
    for (let i = 0; i < h * d; i++) this.params[i] = a1 * (2 * rng.uniform() - 1);
    // Output layer: small weights; component means spread over [−1, 1] so they do not start tied.
    const a2 = 0.1 * Math.sqrt(6 / (h + 3 * k));
    const w2 = h * d + h;
    for (let i = 0; i < 3 * k * h; i++) this.params[w2 + i] = a2 * (2 * rng.uniform() - 1);
    const b2 = w2 + 3 * k * h;
    for (let c = 0; c < k; c++) this.params[b2 + k + c] = k === 1 ? 0 : -1 + (2 * c) / (k - 1);
    this.m = new Float64Array(n);
    this.v = new Float64Array(n);
    this.grad = new Float64Array(n);
  }

  /** log p(y | c), nats; `alt`: the seasonal components' target (default `y`). */
  logProb(c: ArrayLike<number>, y: number, alt = y): number {
    return this.mixtureLogProb(this.forward(c), y, alt).logP;
  }

  /**
   * One AdamW step on the mean negative log-likelihood of the rows `idx` of (`contexts`, `targets`).
   * Returns the mean NLL before the step (NaN = non-finite, step skipped).
   */
  step(
    contexts: readonly ArrayLike<number>[],
    targets: ArrayLike<number>,
    idx: readonly number[],
    alts: ArrayLike<number> = targets,
  ): number {
    this.grad.fill(0);
    let loss = 0;
    for (const i of idx) loss -= this.accumulate(contexts[i]!, targets[i]!, alts[i]!, 1 / idx.length);
    loss /= idx.length;
    let norm = 0;
    for (let i = 0; i < this.grad.length; i++) norm += this.grad[i]! ** 2;
    norm = Math.sqrt(norm);
    if (!Number.isFinite(loss) || !Number.isFinite(norm)) return Number.NaN;
    const clip = norm > this.options.clipNorm ? this.options.clipNorm / norm : 1;
    this.adam(clip);
    return loss;
  }

  private adam(clip: number): void {
    const lr = this.options.learningRate;
    const b1 = 0.9;
    const b2 = 0.999;
    this.steps++;
    const c1 = 1 - b1 ** this.steps;
    const c2 = 1 - b2 ** this.steps;
    for (let i = 0; i < this.params.length; i++) {
      const g = this.grad[i]! * clip;
      const m = b1 * this.m[i]! + (1 - b1) * g;
      const v = b2 * this.v[i]! + (1 - b2) * g * g;
      this.m[i] = m;
      this.v[i] = v;
      this.params[i] = this.params[i]! - (lr * (m / c1)) / (Math.sqrt(v / c2) + 1e-8);
    }
  }

  private forward(c: ArrayLike<number>): Mixture {
    const { inputs: d, hidden: nh, components: k } = this.options;
    const p = this.params;
    const h = new Float64Array(nh);
    for (let j = 0; j < nh; j++) {
      let s = p[nh * d + j]!;
      const row = j * d;
      for (let i = 0; i < d; i++) s += p[row + i]! * c[i]!;
      h[j] = Math.tanh(s);
    }
    const w2 = nh * d + nh;
    const b2 = w2 + 3 * k * nh;
    const out = new Float64Array(3 * k);
    for (let o = 0; o < 3 * k; o++) {
      let s = p[b2 + o]!;
      const row = w2 + o * nh;
      for (let j = 0; j < nh; j++) s += p[row + j]! * h[j]!;
      out[o] = s;
    }
    let maxLogit = Number.NEGATIVE_INFINITY;
    for (let c2 = 0; c2 < k; c2++) maxLogit = Math.max(maxLogit, out[c2]!);
    let z = 0;
    for (let c2 = 0; c2 < k; c2++) z += Math.exp(out[c2]! - maxLogit);
    const logZ = maxLogit + Math.log(z);
    const logPi = new Float64Array(k);
    const mu = new Float64Array(k);
    const logSigma = new Float64Array(k);
    const rawSigma = new Float64Array(k);
    for (let c2 = 0; c2 < k; c2++) {
      logPi[c2] = out[c2]! - logZ;
      mu[c2] = out[k + c2]!;
      rawSigma[c2] = out[2 * k + c2]!;
      logSigma[c2] = LOG_SCALE_BOUND * Math.tanh(rawSigma[c2]! / LOG_SCALE_BOUND);
    }
    return { h, logPi, mu, logSigma, rawSigma };
  }

  /** Target of component `c`: `alt` for the last `seasonal` components, else `y`. */
  private targetOf(c: number, y: number, alt: number): number {
    return c >= this.options.components - (this.options.seasonal ?? 0) ? alt : y;
  }

  private mixtureLogProb(mx: Mixture, y: number, alt: number): { logP: number; comp: Float64Array } {
    const k = this.options.components;
    const comp = new Float64Array(k);
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      const zc = (this.targetOf(c, y, alt) - mx.mu[c]!) * Math.exp(-mx.logSigma[c]!);
      comp[c] = mx.logPi[c]! - 0.5 * zc * zc - mx.logSigma[c]! - HALF_LOG_2PI;
      max = Math.max(max, comp[c]!);
    }
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(comp[c]! - max);
    return { logP: max + Math.log(s), comp };
  }

  /** Adds `weight` · ∂(−log p(y | c))/∂θ to the gradient; returns log p(y | c) (`alt`: see `seasonal`). */
  private accumulate(c: ArrayLike<number>, y: number, alt: number, weight: number): number {
    const { inputs: d, hidden: nh, components: k } = this.options;
    const mx = this.forward(c);
    const { logP, comp } = this.mixtureLogProb(mx, y, alt);
    if (!Number.isFinite(logP)) return logP;
    const dOut = new Float64Array(3 * k);
    for (let q = 0; q < k; q++) {
      const gamma = Math.exp(comp[q]! - logP);
      const inv = Math.exp(-2 * mx.logSigma[q]!);
      const r = this.targetOf(q, y, alt) - mx.mu[q]!;
      dOut[q] = Math.exp(mx.logPi[q]!) - gamma;
      dOut[k + q] = -gamma * r * inv;
      const t = Math.tanh(mx.rawSigma[q]! / LOG_SCALE_BOUND);
      dOut[2 * k + q] = gamma * (1 - r * r * inv) * (1 - t * t);
    }
    const p = this.params;
    const g = this.grad;
    const w2 = nh * d + nh;
    const b2 = w2 + 3 * k * nh;
    const dh = new Float64Array(nh);
    for (let o = 0; o < 3 * k; o++) {
      const go = dOut[o]! * weight;
      g[b2 + o] = g[b2 + o]! + go;
      const row = w2 + o * nh;
      for (let j = 0; j < nh; j++) {
        g[row + j] = g[row + j]! + go * mx.h[j]!;
        dh[j] = dh[j]! + go * p[row + j]!;
      }
    }
    for (let j = 0; j < nh; j++) {
      const da = dh[j]! * (1 - mx.h[j]! * mx.h[j]!);
      g[nh * d + j] = g[nh * d + j]! + da;
      const row = j * d;
      for (let i = 0; i < d; i++) g[row + i] = g[row + i]! + da * c[i]!;
    }
    return logP;
  }
}
