import { z } from 'zod';
import { InvalidOptionError, SerializationError } from '../../errors.js';
import type { AdaptiveThresholdOptions, AdaptiveThresholdState, ThresholdDecision } from './types.js';
import { DEFAULT_SUB_WINDOWS, WindowedSketch, windowedSketchStateSchema } from './windowed-sketch.js';

/** Default minimum observations for a tail rate: enough to resolve it, and never fewer than 100. */
export function defaultMinObservations(rate: number): number {
  return Math.max(100, Math.ceil(1 / rate));
}

/** One problem with an adaptive policy's options. */
export interface OptionProblem {
  /** The offending option: the rate's name, 'window' or 'minObservations'. */
  readonly option: string;
  /** What is wrong, e.g. "must be an integer >= 1000". */
  readonly message: string;
  /** The offending value (undefined when defaulted). */
  readonly value: number | undefined;
  /** The allowed values, in words. */
  readonly allowed: string;
}

/**
 * Problems with an adaptive policy's options (empty when valid). Shared with the config schema so bad
 * combinations fail at load time with the same wording.
 */
export function adaptiveOptionProblems(
  rateName: string,
  rate: number,
  options: Pick<AdaptiveThresholdOptions, 'window' | 'minObservations' | 'subWindows'>,
): OptionProblem[] {
  const k = options.subWindows ?? DEFAULT_SUB_WINDOWS;
  const { window } = options;
  if (!(rate > 0 && rate <= 0.5)) {
    return [{ option: rateName, message: 'must be in (0, 0.5]', value: rate, allowed: '0 < x <= 0.5' }];
  }
  if (!Number.isInteger(window) || window < k) {
    return [
      { option: 'window', message: `must be an integer >= ${k}`, value: window, allowed: `integer >= ${k}` },
    ];
  }
  const minObs = options.minObservations ?? defaultMinObservations(rate);
  const needed = Math.ceil(1 / rate);
  const maxObs = (k - 1) * Math.ceil(window / k);
  const allowed = `integer in [${needed}, ${maxObs}] for ${rateName}=${rate}, window=${window}`;
  if (!Number.isInteger(minObs) || minObs < needed) {
    const message = `must be an integer >= ceil(1/${rateName}) = ${needed} (fewer cannot resolve the tail)`;
    return [{ option: 'minObservations', message, value: minObs, allowed }];
  }
  if (minObs > maxObs) {
    const minWindow = Math.ceil((minObs * k) / (k - 1));
    if (options.minObservations === undefined) {
      const message = `too small for ${rateName}=${rate}: must be >= ${minWindow} to keep ${minObs} observations`;
      return [{ option: 'window', message, value: window, allowed: `integer >= ${minWindow}` }];
    }
    const message =
      `${minObs} exceeds what the window keeps after rotation (${maxObs}); ` +
      `raise window to at least ${minWindow} or lower minObservations`;
    return [{ option: 'minObservations', message, value: minObs, allowed }];
  }
  return [];
}

const adaptiveStateSchema = z.strictObject({
  policy: z.enum(['quantile', 'pvalue']),
  version: z.literal(1),
  rate: z.number(),
  minObservations: z.int(),
  tailBudget: z.number().nonnegative(),
  sketch: windowedSketchStateSchema,
});

/**
 * Common machinery of the quantile and p-value policies: a `WindowedSketch` of recent normal
 * log-likelihoods, a readiness rule and calibrated scores.
 */
export abstract class AdaptiveThreshold {
  abstract readonly policy: 'quantile' | 'pvalue';
  readonly rate: number;
  readonly minObservations: number;
  protected readonly sketch: WindowedSketch;
  readonly tailSlackSd: number;
  private tailBudget = 0;

  protected constructor(rateName: string, rate: number, options: AdaptiveThresholdOptions) {
    const problems = adaptiveOptionProblems(rateName, rate, options);
    if (problems.length > 0) {
      const text = problems.map((p) => `${p.option} ${p.message} (got ${p.value})`).join('; ');
      throw new InvalidOptionError(`invalid ${rateName} threshold options: ${text}`);
    }
    this.rate = rate;
    this.minObservations = options.minObservations ?? defaultMinObservations(rate);
    this.tailSlackSd = options.tailSlackSd ?? 3;
    if (!(this.tailSlackSd >= 0 && Number.isFinite(this.tailSlackSd))) {
      throw new InvalidOptionError(`tailSlackSd must be a finite number >= 0, got ${this.tailSlackSd}`);
    }
    this.sketch = new WindowedSketch(options);
  }

  get observations(): number {
    return this.sketch.count;
  }

  /** True once enough observations back the threshold. */
  get ready(): boolean {
    return this.sketch.count >= this.minObservations;
  }

  /**
   * Learns a batch. Flagged events mix genuine normal-tail events (expected rate q or α) with anomalies.
   * Dropping them all censors the reference's own tail: the threshold ratchets up and the alert rate
   * grows far beyond the rate. Learning them all lets a burst of anomalies desensitise the threshold.
   * So flagged events are learned within a tail budget, a token bucket that accrues, per event seen,
   * the rate plus a slack of `tailSlackSd` standard deviations of the per-window tail count (and keeps at
   * most that slack in reserve). On clean data the budget covers every flagged event, so the threshold
   * stays pinned to the true tail; in a burst only about the natural tail count is learned, least extreme
   * first (the likeliest to be normal). Without `isAnomaly` every value is learned.
   */
  update(logLikelihoods: ArrayLike<number>, isAnomaly?: readonly boolean[]): void {
    const accrual = (this.rate + this.tailSlack / this.sketch.window) * logLikelihoods.length;
    this.tailBudget = Math.min(this.tailBudget + accrual, this.tailSlack + 1);
    const flagged: number[] = [];
    for (let i = 0; i < logLikelihoods.length; i++) {
      const x = logLikelihoods[i]!;
      if (isAnomaly?.[i] !== true) this.sketch.add(x);
      else if (Number.isFinite(x)) flagged.push(x);
    }
    const take = Math.min(flagged.length, Math.floor(this.tailBudget));
    if (take === 0) return;
    flagged.sort((a, b) => b - a);
    for (let i = 0; i < take; i++) this.sketch.add(flagged[i]!);
    this.tailBudget -= take;
  }

  /** Slack of the tail budget per window: `tailSlackSd` standard deviations of the tail count. */
  private get tailSlack(): number {
    return this.tailSlackSd * Math.sqrt(this.rate * this.sketch.window);
  }

  abstract decide(logLikelihoods: ArrayLike<number>): ThresholdDecision;

  /**
   * Tail p-values: p = (1 + midRank(x)) / (n + 1), the (+1-corrected) fraction of recent log-likelihoods
   * at or below x. Ties within one sketch bin count half, so p is a mid-p value. NaN and −∞ map to
   * p = 0 (maximally anomalous); with no data p = 1.
   */
  protected pValues(logLikelihoods: ArrayLike<number>): Float64Array {
    const n = this.sketch.count;
    const ranks = this.sketch.midRanks(logLikelihoods);
    const p = new Float64Array(ranks.length);
    for (let i = 0; i < ranks.length; i++) {
      const x = logLikelihoods[i]!;
      p[i] = Number.isNaN(x) || x === Number.NEGATIVE_INFINITY ? 0 : (1 + ranks[i]!) / (n + 1);
    }
    return p;
  }

  getState(): AdaptiveThresholdState {
    return {
      policy: this.policy,
      version: 1,
      rate: this.rate,
      minObservations: this.minObservations,
      tailBudget: this.tailBudget,
      sketch: this.sketch.getState(),
    };
  }

  setState(state: unknown): void {
    const parsed = adaptiveStateSchema.safeParse(state);
    if (!parsed.success) {
      throw new SerializationError(
        `invalid ${this.policy} threshold state: ${z.prettifyError(parsed.error)}`,
      );
    }
    if (parsed.data.policy !== this.policy) {
      throw new SerializationError(
        `threshold state is for policy "${parsed.data.policy}" but the configured policy is "${this.policy}"`,
      );
    }
    this.sketch.setState(parsed.data.sketch);
    this.tailBudget = Math.min(parsed.data.tailBudget, this.tailSlack + 1);
  }
}
