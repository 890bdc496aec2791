/**
 * HTM-style anomaly likelihood (Ahmad et al. 2017, numenta/NAB's HTM detector) over the detector's raw
 * scores: how unusual the last few raw scores are relative to the series' own recent raw scores. It turns
 * "this point is unlikely under the model" into "the model is more surprised than it usually is on this
 * series". Measured on the NAB subset it lost to the detector's own p-value score (docs/detector.md, "NAB
 * evaluation"), so it is an option of the time-series scoring (`timeseries.scoring.score: likelihood`).
 * See docs/detector.md, "Time-series mode".
 */
import { InvalidOptionError, SerializationError } from '../errors.js';
import { logNormalCdfF64 } from '../flow/special.js';

/** Options of `AnomalyLikelihood` (config `timeseries.scoring` with `score: likelihood`). */
export interface AnomalyLikelihoodOptions {
  /** Raw scores averaged into the short-term score (HTM: 10). */
  readonly averagingWindow: number;
  /** Effective length, in events, of the exponentially weighted long-term Gaussian of short-term scores. */
  readonly historyEvents: number;
  /** Raw scores ignored at the start (the model is still learning). */
  readonly learningEvents: number;
  /** Short-term scores fitted after the learning period before anything scores above 0. */
  readonly estimationEvents: number;
  /** Floor of the long-term standard deviation, in raw-score units (nats for log-likelihoods). */
  readonly minStd: number;
}

/** Defaults evaluated on the NAB subset (docs/detector.md, "NAB evaluation"). */
export const DEFAULT_LIKELIHOOD_OPTIONS: AnomalyLikelihoodOptions = Object.freeze({
  averagingWindow: 10,
  historyEvents: 8640,
  learningEvents: 150,
  estimationEvents: 150,
  minStd: 0.01,
});

/** JSON form of one series' post-processor, for checkpoints. */
export interface AnomalyLikelihoodState {
  /** Last raw scores, oldest first, at most `averagingWindow`. */
  readonly recent: readonly number[];
  /** Raw scores seen (finite ones). */
  readonly seen: number;
  /** Short-term scores fitted into the long-term Gaussian. */
  readonly fitted: number;
  readonly mean: number;
  readonly variance: number;
}

/**
 * Score of a tail probability, as NAB's HTM detector's log likelihood: −log10(tail + 1e-10)/10, in
 * [0, 1]; 0.5 is a tail of 1e-5 (HTM's usual alert level). Takes log(tail) to keep precision.
 */
export function tailScore(logTail: number): number {
  const floor = Math.log(1e-10);
  const hi = Math.max(logTail, floor);
  const logSum = hi + Math.log1p(Math.exp(Math.min(logTail, floor) - hi));
  return Math.min(1, Math.max(0, -logSum / Math.LN10 / 10));
}

/** Problems of `o`, one message each (empty when valid). */
export function likelihoodOptionProblems(o: AnomalyLikelihoodOptions): string[] {
  const problems: string[] = [];
  const int = (name: keyof AnomalyLikelihoodOptions, min: number): void => {
    const v = o[name];
    if (!Number.isInteger(v) || v < min) problems.push(`${name} must be an integer >= ${min}, got ${v}`);
  };
  int('averagingWindow', 1);
  int('historyEvents', 2);
  int('learningEvents', 0);
  int('estimationEvents', 2);
  if (!(o.minStd > 0 && Number.isFinite(o.minStd))) problems.push(`minStd must be > 0, got ${o.minStd}`);
  return problems;
}

/**
 * Post-processor of one series. `next(raw)` takes the detector's raw score of an event (higher is more
 * anomalous, e.g. −log p(x) in nats; non-finite = no score yet) and returns its anomaly score in [0, 1]:
 *
 * - short-term score m = mean of the last `averagingWindow` raw scores;
 * - long-term Gaussian N(μ, σ²) of past short-term scores, exponentially weighted over `historyEvents`
 *   (O(1) state: a bounded history per key would cost `historyEvents` numbers per key);
 * - score = tailScore(log P(Z > (m − μ)/max(σ, minStd))), 0 until `learningEvents + estimationEvents`
 *   raw scores were seen.
 *
 * Each event is scored before it is fitted (prequential), so a spike cannot hide itself.
 */
export class AnomalyLikelihood {
  readonly options: AnomalyLikelihoodOptions;
  private recent: number[] = [];
  private seen = 0;
  private fitted = 0;
  private mean = 0;
  private variance = 0;

  constructor(options: AnomalyLikelihoodOptions) {
    const problems = likelihoodOptionProblems(options);
    if (problems.length > 0) throw new InvalidOptionError(`anomaly likelihood: ${problems.join('; ')}`);
    this.options = { ...options };
  }

  /** Anomaly score in [0, 1] of an event with raw score `raw`; then learns it. */
  next(raw: number): number {
    if (!Number.isFinite(raw)) return 0;
    const o = this.options;
    this.seen++;
    this.recent.push(raw);
    if (this.recent.length > o.averagingWindow) this.recent.shift();
    let m = 0;
    for (const r of this.recent) m += r;
    m /= this.recent.length;
    let score = 0;
    if (this.fitted >= o.estimationEvents) {
      const z = (m - this.mean) / Math.max(Math.sqrt(this.variance), o.minStd);
      score = tailScore(logNormalCdfF64(-z));
    }
    if (this.seen > o.learningEvents) this.fit(m);
    return score;
  }

  getState(): AnomalyLikelihoodState {
    const { recent, seen, fitted, mean, variance } = this;
    return { recent: [...recent], seen, fitted, mean, variance };
  }

  /** Restores `getState()` output; throws `SerializationError` when it is malformed. */
  setState(state: AnomalyLikelihoodState): void {
    const s = state;
    const finite = [s.mean, s.variance, ...s.recent].every(Number.isFinite);
    if (!finite || s.recent.length > this.options.averagingWindow || s.variance < 0) {
      throw new SerializationError('invalid anomaly-likelihood state', { context: { state } });
    }
    this.recent = [...s.recent];
    this.seen = s.seen;
    this.fitted = s.fitted;
    this.mean = s.mean;
    this.variance = s.variance;
  }

  /** Exponentially weighted mean and variance; a plain average while fewer than `historyEvents`. */
  private fit(m: number): void {
    this.fitted++;
    const a = 1 / Math.min(this.fitted, this.options.historyEvents);
    const d = m - this.mean;
    this.mean += a * d;
    this.variance = (1 - a) * (this.variance + a * d * d);
  }
}
