/**
 * Evidence of two models combined per point: each model's surprise gets its p-value among the key's
 * recent surprises of that model (`SurprisePValue`), and the two p-values are combined into one
 * ('sidak': the smaller one, Šidák-corrected for two looks; 'fisher': Fisher's method; 'mean': their
 * mean). The anomaly score is 1 − the combined p-value, raised to 1 on a range breakout. Issue 16: the
 * conditional model misses changes of the daily shape that the joint flow of a lag vector sees, and the
 * joint flow over-alerts where the conditional model does not.
 */

import { RangeBreakout } from '../../src/detector/range-breakout.js';
import { SurprisePValue } from '../../src/detector/timeseries/surprise-score.js';
import { InvalidOptionError } from '../../src/errors.js';

/** How two p-values become one. */
export type CombineRule = 'sidak' | 'fisher' | 'mean';

/** The rules `CombineRule` allows. */
export const COMBINE_RULES: readonly CombineRule[] = ['sidak', 'fisher', 'mean'];

/**
 * One p-value from two, both in (0, 1]: 'sidak' 1 − (1 − min)², the chance that the smaller of two
 * independent uniform p-values is that small; 'fisher' the χ²₄ tail of −2 ln(a·b), i.e. q(1 − ln q)
 * with q = a·b; 'mean' (a + b)/2, which is small only when both are.
 */
export function combinePValues(rule: CombineRule, a: number, b: number): number {
  switch (rule) {
    case 'sidak': {
      const m = Math.min(a, b);
      return m * (2 - m);
    }
    case 'fisher': {
      const q = a * b;
      return q > 0 ? Math.min(1, q * (1 - Math.log(q))) : 0;
    }
    case 'mean':
      return (a + b) / 2;
  }
}

/**
 * What a model hands the combination per point: its surprise u = −log p(x | …) (given a p-value among
 * the key's recent surprises here), or a p-value already (e.g. 1 − the flow detector's `anomalyScore`).
 */
export type EvidenceKind = 'surprise' | 'pvalue';

/** Options of `CombinedScorer`. */
export interface CombineScoreOptions {
  readonly rule: CombineRule;
  /** What the first and the second model give (default both 'surprise'). */
  readonly kinds?: readonly [EvidenceKind, EvidenceKind];
  /**
   * Per model, the p-value is of the mean of its last `average` surprises (default 1: the surprise
   * itself; 'surprise' evidence only).
   */
  readonly averages?: readonly [number, number];
  /** Recent surprises of each model the p-values are taken among. */
  readonly window: number;
  /** Surprises a model needs before its p-value is below 1. */
  readonly minHistory: number;
  /** Range-breakout tolerance (fraction of the range seen); negative = off. */
  readonly rangeTolerance: number;
}

/** Problems of `o`, one message each (empty when valid). */
export function combineScoreProblems(o: CombineScoreOptions): string[] {
  const problems: string[] = [];
  if (!COMBINE_RULES.includes(o.rule))
    problems.push(`rule must be one of ${COMBINE_RULES.join(', ')}, got ${String(o.rule)}`);
  if (!Number.isInteger(o.window) || o.window < 2)
    problems.push(`window must be an integer >= 2, got ${o.window}`);
  if (!Number.isInteger(o.minHistory) || o.minHistory < 1 || o.minHistory > o.window)
    problems.push(`minHistory must be an integer in [1, window], got ${o.minHistory}`);
  if (!Number.isFinite(o.rangeTolerance))
    problems.push(`rangeTolerance must be finite, got ${o.rangeTolerance}`);
  for (const a of o.averages ?? []) {
    if (!Number.isInteger(a) || a < 1) problems.push(`averages must be integers >= 1, got ${a}`);
  }
  for (const k of o.kinds ?? []) {
    if (k !== 'surprise' && k !== 'pvalue')
      problems.push(`kinds must be 'surprise' or 'pvalue', got ${String(k)}`);
  }
  return problems;
}

/** One model's evidence as a p-value in (0, 1]: 1 (no evidence) while it warms (NaN). */
class Evidence {
  private readonly history: SurprisePValue | undefined;
  private readonly recent: number[] = [];

  constructor(
    kind: EvidenceKind,
    window: number,
    minHistory: number,
    private readonly average: number,
  ) {
    if (kind === 'surprise') this.history = new SurprisePValue(window, minHistory);
  }

  pvalue(x: number): number {
    if (this.history !== undefined) return Math.exp(this.history.next(this.averaged(x)));
    return Number.isFinite(x) ? Math.min(1, Math.max(x, Number.MIN_VALUE)) : 1;
  }

  /** Mean of the last `average` finite surprises (NaN stays NaN). */
  private averaged(u: number): number {
    if (this.average === 1 || !Number.isFinite(u)) return u;
    this.recent.push(u);
    if (this.recent.length > this.average) this.recent.shift();
    return this.recent.reduce((s, v) => s + v, 0) / this.recent.length;
  }
}

/** One key's combined post-processing of two models' evidence. */
export class CombinedScorer {
  private readonly a: Evidence;
  private readonly b: Evidence;
  private readonly range: RangeBreakout;

  constructor(readonly options: CombineScoreOptions) {
    const problems = combineScoreProblems(options);
    if (problems.length > 0) throw new InvalidOptionError(`combined scoring: ${problems.join('; ')}`);
    const [ka, kb] = options.kinds ?? ['surprise', 'surprise'];
    const [aa, ab] = options.averages ?? [1, 1];
    this.a = new Evidence(ka, options.window, options.minHistory, aa);
    this.b = new Evidence(kb, options.window, options.minHistory, ab);
    this.range = new RangeBreakout(Math.max(0, options.rangeTolerance));
  }

  /**
   * Anomaly score in [0, 1] of `value` given each model's evidence `a` and `b` (a surprise or a p-value,
   * as `kinds` says; NaN while that model warms: it then gives no evidence, p = 1; both NaN: score 0, but
   * the range still learns): 1 − the combined p-value, 1 on a range breakout.
   */
  next(value: number, a: number, b: number): number {
    const breakout = this.range.next(value) && this.options.rangeTolerance >= 0;
    if (!Number.isFinite(a) && !Number.isFinite(b)) return 0;
    const p = combinePValues(this.options.rule, this.a.pvalue(a), this.b.pvalue(b));
    return breakout ? 1 : 1 - p;
  }
}
