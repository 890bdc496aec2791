/**
 * Post-processing of the conditional surprise u_t = −log p(x_t | context) into an anomaly score in
 * [0, 1], per key: the p-value of u_t among the key's recent surprises ('pvalue'), or the HTM-style
 * anomaly likelihood of u_t (a short mean against a long mean, 'likelihood'); optionally raised to 1 on
 * a range breakout. Which of these the NAB config uses was chosen by the leave-one-category-out
 * protocol (docs/evaluation.md, "NAB protocol").
 */
import { InvalidOptionError } from '../../errors.js';
import { AnomalyLikelihood, DEFAULT_LIKELIHOOD_OPTIONS } from '../anomaly-likelihood.js';
import { RangeBreakout } from '../range-breakout.js';

/** Options of `SurpriseScorer`. */
export interface SurpriseScoreOptions {
  readonly score: 'pvalue' | 'likelihood';
  /** 'pvalue': recent surprises the p-value is taken among. */
  readonly window: number;
  /** 'pvalue': surprises needed before anything scores above 0. */
  readonly minHistory: number;
  /** 'pvalue': the p-value is of the mean of the last `average` surprises (1 = the surprise itself). */
  readonly average: number;
  /** Range-breakout tolerance (fraction of the range seen); negative = off. */
  readonly rangeTolerance: number;
}

/** Problems of `o`, one message each (empty when valid). */
export function surpriseScoreProblems(o: SurpriseScoreOptions): string[] {
  const problems: string[] = [];
  if (o.score !== 'pvalue' && o.score !== 'likelihood')
    problems.push(`score must be 'pvalue' or 'likelihood', got ${String(o.score)}`);
  if (!Number.isInteger(o.window) || o.window < 2)
    problems.push(`window must be an integer >= 2, got ${o.window}`);
  if (!Number.isInteger(o.minHistory) || o.minHistory < 1 || o.minHistory > o.window)
    problems.push(`minHistory must be an integer in [1, window], got ${o.minHistory}`);
  if (!Number.isInteger(o.average) || o.average < 1)
    problems.push(`average must be an integer >= 1, got ${o.average}`);
  if (!Number.isFinite(o.rangeTolerance))
    problems.push(`rangeTolerance must be finite, got ${o.rangeTolerance}`);
  return problems;
}

/** Index of the first element of sorted `a` that is ≥ `v`. */
function lowerBound(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * p-value of a surprise among the last `window` ones: (#{h ≥ u} + 1)/(n + 1). Beyond the largest, the
 * tail continues exponentially (scale = the history's standard deviation), so clear anomalies keep
 * ranking above marginal ones instead of all tying at 1/(n + 1).
 */
export class SurprisePValue {
  private readonly fifo: number[] = [];
  private readonly sorted: number[] = [];
  private sum = 0;
  private sumSq = 0;

  constructor(
    readonly window: number,
    readonly minHistory: number,
  ) {}

  /** log p of `u` (0 while the history is short), then learns `u`. Non-finite `u` is ignored (log p 0). */
  next(u: number): number {
    if (!Number.isFinite(u)) return 0;
    const n = this.sorted.length;
    let logP = 0;
    if (n >= this.minHistory) {
      const above = n - lowerBound(this.sorted, u);
      logP = Math.log((above + 1) / (n + 1));
      if (above === 0) {
        const mean = this.sum / n;
        const sd = Math.sqrt(Math.max(this.sumSq / n - mean * mean, 0));
        logP -= (u - this.sorted[n - 1]!) / Math.max(sd, 1e-9);
      }
    }
    this.learn(u);
    return logP;
  }

  private learn(u: number): void {
    this.fifo.push(u);
    this.sorted.splice(lowerBound(this.sorted, u), 0, u);
    this.sum += u;
    this.sumSq += u * u;
    if (this.fifo.length > this.window) {
      const old = this.fifo.shift()!;
      this.sorted.splice(lowerBound(this.sorted, old), 1);
      this.sum -= old;
      this.sumSq -= old * old;
    }
  }
}

/** One key's post-processing. */
export class SurpriseScorer {
  private readonly pvalue: SurprisePValue | undefined;
  private readonly likelihood: AnomalyLikelihood | undefined;
  private readonly range: RangeBreakout;
  private readonly recent: number[] = [];

  constructor(readonly options: SurpriseScoreOptions) {
    const problems = surpriseScoreProblems(options);
    if (problems.length > 0) throw new InvalidOptionError(`surprise scoring: ${problems.join('; ')}`);
    this.range = new RangeBreakout(Math.max(0, options.rangeTolerance));
    if (options.score === 'pvalue') this.pvalue = new SurprisePValue(options.window, options.minHistory);
    else this.likelihood = new AnomalyLikelihood(DEFAULT_LIKELIHOOD_OPTIONS);
  }

  /**
   * Anomaly score in [0, 1] of a value with surprise `u` (NaN while warming: score 0, but the range
   * still learns): 1 − p for 'pvalue', the anomaly likelihood otherwise, 1 on a range breakout.
   */
  next(value: number, u: number): number {
    const breakout = this.range.next(value) && this.options.rangeTolerance >= 0;
    if (!Number.isFinite(u)) return 0;
    const base = this.pvalue ? -Math.expm1(this.pvalue.next(this.averaged(u))) : this.likelihood!.next(u);
    return breakout ? 1 : base;
  }

  private averaged(u: number): number {
    if (this.options.average === 1) return u;
    this.recent.push(u);
    if (this.recent.length > this.options.average) this.recent.shift();
    return this.recent.reduce((s, v) => s + v, 0) / this.recent.length;
  }
}
