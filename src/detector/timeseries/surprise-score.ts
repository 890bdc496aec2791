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
  /**
   * 'pvalue', protocol experiments only (not in the config; all lost, docs/evaluation.md "NAB protocol"):
   * `tail` 'exponential' extrapolates beyond the largest recent surprise with an exponential tail
   * (`SurprisePValue`); `flaggedBudget` false learns every surprise, flagged or not; `record` scores a
   * surprise above every recent one as such a record among a full window (`SurprisePValue`).
   */
  readonly tail?: PValueTail;
  readonly flaggedBudget?: boolean;
  readonly record?: PValueRecord;
}

/**
 * How `SurprisePValue` scores a record (a surprise above every recent one) while the history is short:
 * 'rank' = 1/(n + 1); 'full' = 1/(window + 1), as a record among a full window; 'margin' = the same,
 * but only for a record above the largest recent surprise by at least the history's interquartile range.
 */
export type PValueRecord = 'rank' | 'full' | 'margin';

/** How `SurprisePValue` scores a surprise above every recent one. */
export type PValueTail = 'none' | 'exponential';

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
  if (o.tail !== undefined && o.tail !== 'none' && o.tail !== 'exponential')
    problems.push(`tail must be 'none' or 'exponential', got ${String(o.tail)}`);
  if (o.flaggedBudget !== undefined && typeof o.flaggedBudget !== 'boolean')
    problems.push(`flaggedBudget must be a boolean, got ${String(o.flaggedBudget)}`);
  if (o.record !== undefined && o.record !== 'rank' && o.record !== 'full' && o.record !== 'margin')
    problems.push(`record must be 'rank', 'full' or 'margin', got ${String(o.record)}`);
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

/** Share of the history the exponential tail is fitted to (SPOT's 98% initial quantile: the top 2%). */
export const TAIL_SHARE = 0.02;
/** Fewest history points the exponential tail is fitted to. */
export const TAIL_MIN = 10;

/** Share of the recent surprises above which a surprise counts as flagged (as `threshold.quantile`). */
export const FLAGGED_SHARE = 0.005;
/** The tail budget accrues this much faster than `FLAGGED_SHARE`, so a lasting regime change is learned. */
const BUDGET_DRIFT = 0.25;

/**
 * p-value of a surprise among the last `window` ones: (#{h ≥ u} + 1)/(n + 1). As the adaptive
 * thresholds do (src/detector/thresholds/adaptive.ts), a surprise with p < `FLAGGED_SHARE` joins the
 * history only within a tail budget (FLAGGED_SHARE·1.25 per value, slack 3 standard deviations of the
 * tail count): an anomaly episode does not inflate the history it is judged against, but a new regime is
 * learned within a few hundred values.
 */
export class SurprisePValue {
  private readonly fifo: number[] = [];
  private readonly sorted: number[] = [];
  private budget = 0;
  private readonly slack: number;

  private readonly tail: PValueTail;
  private readonly flaggedBudget: boolean;
  private readonly record: PValueRecord;

  /**
   * `extra.tail` 'exponential': a surprise above every recent one gets the smaller of 1/(n + 1) and an
   * exponential tail's p-value (peaks over threshold, `tailLogP`), so it is not capped at 1/(n + 1) and
   * scores by how far above it lies; 'none' (default) = the rank alone. `extra.flaggedBudget` false:
   * flagged surprises are learned like any other (default true: within the tail budget only).
   * `extra.record` 'full': a record scores 1/(window + 1) however short the history, so a fixed threshold
   * up to 1 − 1/(window + 1) is reachable from the first `minHistory` surprises on (with the rank alone,
   * threshold 0.999 needs 999 of them); 'margin' requires the record to clear the largest recent surprise
   * by the history's interquartile range. Only the score changes: what is learned still follows the
   * rank p-value.
   */
  constructor(
    readonly window: number,
    readonly minHistory: number,
    extra: {
      readonly tail?: PValueTail;
      readonly flaggedBudget?: boolean;
      readonly record?: PValueRecord;
    } = {},
  ) {
    this.tail = extra.tail ?? 'none';
    this.flaggedBudget = extra.flaggedBudget ?? true;
    this.record = extra.record ?? 'rank';
    this.slack = 3 * Math.sqrt(FLAGGED_SHARE * window);
  }

  /** log p of `u` (0 while the history is short), then learns `u`. Non-finite `u` is ignored (log p 0). */
  next(u: number): number {
    if (!Number.isFinite(u)) return 0;
    const n = this.sorted.length;
    let logP = 0;
    if (n >= this.minHistory) {
      const above = n - lowerBound(this.sorted, u);
      logP = Math.log((above + 1) / (n + 1));
      if (this.tail === 'exponential' && above === 0) logP = Math.min(logP, this.tailLogP(u) ?? logP);
    }
    const rankLogP = logP;
    if (n >= this.minHistory && this.isRecord(u)) logP = Math.min(logP, -Math.log(this.window + 1));
    this.budget = Math.min(this.budget + FLAGGED_SHARE * (1 + BUDGET_DRIFT), this.slack + 1);
    if (rankLogP >= Math.log(FLAGGED_SHARE) || !this.flaggedBudget) this.learn(u);
    else if (this.budget >= 1) {
      this.budget -= 1;
      this.learn(u);
    }
    return logP;
  }

  /**
   * log p of `u` under an exponential tail over the k = max(TAIL_MIN, ⌈TAIL_SHARE·n⌉) largest surprises:
   * P(U > u) = k/(n + 1) · exp(−(u − t)/β), t the k-th largest, β the mean excess of the larger ones over
   * t (maximum likelihood); undefined up to t or when the tail has no spread.
   */
  private tailLogP(u: number): number | undefined {
    const n = this.sorted.length;
    const k = Math.min(n, Math.max(TAIL_MIN, Math.ceil(TAIL_SHARE * n)));
    const t = this.sorted[n - k]!;
    if (!(u > t) || k < 2) return undefined;
    let excess = 0;
    for (let i = n - k + 1; i < n; i++) excess += this.sorted[i]! - t;
    const beta = excess / (k - 1);
    if (!(beta > 0)) return undefined;
    return Math.log(k / (n + 1)) - (u - t) / beta;
  }

  /** Whether `u` counts as a record under the `record` option (never for 'rank'). */
  private isRecord(u: number): boolean {
    const n = this.sorted.length;
    const max = this.sorted[n - 1]!;
    if (this.record === 'rank' || !(u > max)) return false;
    if (this.record === 'full') return true;
    const iqr = this.sorted[Math.floor(0.75 * (n - 1))]! - this.sorted[Math.floor(0.25 * (n - 1))]!;
    return u >= max + iqr;
  }

  private learn(u: number): void {
    this.fifo.push(u);
    this.sorted.splice(lowerBound(this.sorted, u), 0, u);
    if (this.fifo.length > this.window) {
      const old = this.fifo.shift()!;
      this.sorted.splice(lowerBound(this.sorted, old), 1);
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
    if (options.score === 'pvalue')
      this.pvalue = new SurprisePValue(options.window, options.minHistory, {
        tail: options.tail,
        flaggedBudget: options.flaggedBudget,
        record: options.record,
      });
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
