import { z } from 'zod';
import { adaptiveOptionProblems, defaultMinObservations } from '../../config/threshold-rules.js';
import { InvalidOptionError, SerializationError } from '../../errors.js';
import type { RateController } from './rate-control.js';
import type { AdaptiveThresholdOptions, AdaptiveThresholdState, ThresholdDecision } from './types.js';
import { WindowedSketch, windowedSketchStateSchema } from './windowed-sketch.js';

export {
  adaptiveOptionProblems,
  defaultMinObservations,
  type OptionProblem,
} from '../../config/threshold-rules.js';

/** Width of the gross-outlier fence in units of Q₀.₅ − Q₀.₀₅ (see `AdaptiveThreshold.update`). */
export const OUTLIER_FENCE_K = 4;
/** Reference size from which the fence comes from the reference rather than from the batch itself. */
const FENCE_MIN_REFERENCE = 200;
/** Smallest batch the fence is estimated from while the reference is smaller than that. */
const FENCE_MIN_BATCH = 20;
/**
 * Relative drift of the tail budget: it accrues `rate · (1 + TAIL_BUDGET_DRIFT)` tokens per event. The
 * drift is what pulls a threshold that has wandered above the true tail back down on clean data (see
 * `AdaptiveThreshold.update`); it is also the most anomalies can add to the tail, per event, relative to
 * the rate.
 */
export const TAIL_BUDGET_DRIFT = 0.25;

const adaptiveStateSchema = z.strictObject({
  policy: z.enum(['quantile', 'pvalue']),
  version: z.literal(1),
  rate: z.number(),
  minObservations: z.int(),
  tailBudget: z.number().nonnegative(),
  logLevel: z.number().optional(),
  alertCredit: z.number().nonnegative().optional(),
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
  /** Feedback on the realised alert rate, when the policy holds an alert budget (see `RateController`). */
  protected rateControl: RateController | undefined;
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
   * grows far beyond the rate. Learning them all lets anomalies desensitise the threshold.
   *
   * So, when `isAnomaly` is given:
   * - Values below a gross-outlier fence Q₀.₀₅ − k·(Q₀.₅ − Q₀.₀₅) (k = `OUTLIER_FENCE_K`; see
   *   `outlierFence`) are never learned, flagged or not. Before the policy is ready nothing is flagged, so
   *   without the fence early anomalies enter the reference; once they outnumber the rate, its quantile
   *   sits among them and they stop being flagged at all. For Gaussian-like log-likelihoods the fence lies
   *   about 8 sd below the median, far below any tail worth alerting at. A sustained drop below it is
   *   never learned, so it keeps alerting (to re-baseline, `update` without verdicts).
   * - Flagged values above the fence are learned within a tail budget, least extreme first (the likeliest
   *   to be normal): a token bucket that accrues `rate · (1 + TAIL_BUDGET_DRIFT)` per event and holds at
   *   most `tailSlackSd` standard deviations of the per-window tail count, plus one, in reserve for the
   *   natural clustering of tail events. Anomalies more frequent than the rate can thus add at most
   *   `TAIL_BUDGET_DRIFT · rate` per event to the tail (the former rate + slack/window accrual allowed more
   *   than the rate itself for rate·window < 9, which let them pull the threshold into themselves). Exactly
   *   the rate would make the bucket a zero-drift random walk that empties by chance on clean data; then
   *   exactly the rate is learned below a threshold that has drifted up, which leaves it there and the
   *   alert rate ratchets up. The drift pulls it back.
   *
   * Without `isAnomaly` every value is learned (no fence, no budget; the budget still accrues): the caller
   * vouches for the values, e.g. to follow a level shift or in the 'learn' mode of `decideThenUpdate`.
   */
  update(logLikelihoods: ArrayLike<number>, isAnomaly?: readonly boolean[]): void {
    const accrual = this.rate * (1 + TAIL_BUDGET_DRIFT) * logLikelihoods.length;
    this.tailBudget = Math.min(this.tailBudget + accrual, this.tailSlack + 1);
    if (isAnomaly === undefined) {
      for (let i = 0; i < logLikelihoods.length; i++) this.sketch.add(logLikelihoods[i]!);
      return;
    }
    const fence = this.outlierFence(logLikelihoods);
    const flagged: number[] = [];
    for (let i = 0; i < logLikelihoods.length; i++) {
      const x = logLikelihoods[i]!;
      if (!(x >= fence)) continue; // below the fence, or NaN (never learned anyway)
      if (isAnomaly[i] === true) flagged.push(x);
      else this.sketch.add(x);
    }
    const take = Math.min(flagged.length, Math.floor(this.tailBudget));
    if (take === 0) return;
    flagged.sort((a, b) => b - a);
    for (let i = 0; i < take; i++) this.sketch.add(flagged[i]!);
    this.tailBudget -= take;
  }

  /**
   * The gross-outlier fence Q₀.₀₅ − k·(Q₀.₅ − Q₀.₀₅) in nats, below which `update` learns nothing when given
   * verdicts: quantiles of the reference once it holds 200 values, else of `batch` (at least 20 finite
   * values); −∞ when neither has enough.
   */
  outlierFence(batch: ArrayLike<number> = []): number {
    let q05: number;
    let q50: number;
    if (this.sketch.count >= FENCE_MIN_REFERENCE) {
      q05 = this.sketch.quantile(0.05);
      q50 = this.sketch.quantile(0.5);
    } else {
      const sorted = Array.from(batch)
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
      if (sorted.length < FENCE_MIN_BATCH) return Number.NEGATIVE_INFINITY;
      q05 = sorted[Math.floor(0.05 * (sorted.length - 1))]!;
      q50 = sorted[Math.floor(0.5 * (sorted.length - 1))]!;
    }
    const fence = q05 - OUTLIER_FENCE_K * Math.max(q50 - q05, 0);
    return Number.isFinite(fence) ? fence : Number.NEGATIVE_INFINITY;
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
      ...(this.rateControl === undefined
        ? {}
        : { logLevel: this.rateControl.logLevel, alertCredit: this.rateControl.alertCredit }),
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
    if (this.rateControl !== undefined) {
      this.rateControl.logLevel = parsed.data.logLevel ?? 0;
      // A state saved before the alert credit existed starts with a full one.
      this.rateControl.alertCredit = parsed.data.alertCredit ?? this.rateControl.burstAlerts;
    }
  }
}
