/**
 * The mapping from the detector's outputs to NAB anomaly scores in [0, 1) and detections, kept in this one
 * file so it can be swapped: `nabAnomalyScores` is all the NAB evaluation calls.
 */
import { InvalidOptionError } from '../errors.js';
import type { ScoredEvent } from '../streams/types.js';

/**
 * Continuous anomaly score in [0, 1) for the NAB threshold sweep. The detector's `anomalyScore` (1 − p)
 * saturates at 1 − 1/(window + 1), so every clear anomaly would tie with every marginal one. Instead:
 * d = (m − log p) / (m − t), with t the event's threshold (nats) and m a running mean of the
 * log-likelihoods of unflagged scored events (past only); d = 1 at the threshold, so d/(1 + d) = 0.5
 * there. Scale-free, hence comparable across series. Warming events score 0.
 */
export class TailScore {
  private mean: number | undefined;
  private count = 0;

  /** Score of one detector output; then learns its log-likelihood when it was not flagged. */
  next(r: ScoredEvent): number {
    if (r.status !== 'scored' || !Number.isFinite(r.logLikelihood) || !Number.isFinite(r.threshold)) return 0;
    const m = this.mean ?? r.logLikelihood;
    const d = Math.max(0, (m - r.logLikelihood) / Math.max(m - r.threshold, 1e-9));
    if (!r.isAnomaly) {
      this.count++;
      this.mean = m + Math.max(1 / this.count, 0.01) * (r.logLikelihood - m);
    }
    return d / (1 + d);
  }
}

/**
 * Keeps a score only where it exceeds every score of the previous `window` points (else 0): one
 * detection per anomaly episode, as an alert suppressor would give, since NAB charges every detection
 * outside a window as a false positive. Causal; O(n) with a monotonic deque. `window` 0 returns a copy.
 */
export function newMaxOnly(scores: readonly number[], window: number): number[] {
  if (!Number.isInteger(window) || window < 0) {
    throw new InvalidOptionError(`window must be an integer >= 0 points, got ${window}`);
  }
  if (window === 0) return [...scores];
  const deque: number[] = []; // indices of the previous `window` points, scores decreasing
  return scores.map((v, t) => {
    while (deque.length > 0 && deque[0]! < t - window) deque.shift();
    const recentMax = deque.length > 0 ? scores[deque[0]!]! : Number.NEGATIVE_INFINITY;
    while (deque.length > 0 && scores[deque[deque.length - 1]!]! <= v) deque.pop();
    deque.push(t);
    return v > recentMax ? v : 0;
  });
}

/** Default repeat-suppression window of `nabAnomalyScores`, points. */
export const DEFAULT_DEDUPE_WINDOW = 100;

/**
 * Where the NAB anomaly score comes from: 'tail' = `TailScore` of the log-likelihoods (the default);
 * 'detector' = the detector's own `anomalyScore`, for when it is already a continuous score in [0, 1]
 * (the per-series score of `timeseries.scoring`: 1 − p-value or the anomaly likelihood, per
 * `timeseries.scoring.score`, with range breakout).
 */
export type NabScoreSource = 'tail' | 'detector';

/** What each source means, for results.json and the report. */
export const NAB_SCORE_SOURCES: Readonly<Record<NabScoreSource, string>> = {
  tail: 'TailScore d/(1+d), d = (m − log p)/(m − threshold), m = running mean log p of unflagged points (0.5 at the configured threshold); repeats within the dedupe window set to 0',
  detector:
    "the detector's anomalyScore (the per-series score of timeseries.scoring: 1 − p-value or the anomaly likelihood, as timeseries.scoring.score says); repeats within the dedupe window set to 0",
};

/** NAB anomaly scores of one series and the detections at the configured threshold. */
export interface NabSeriesScores {
  /** Per point, in [0, 1]; the threshold sweep runs over these. */
  readonly scores: number[];
  /** The scores before repeat suppression (for pointwise curves). */
  readonly raw: number[];
  /**
   * Per point: flagged at the configured threshold (`isAnomaly`) and kept by the repeat suppression (its
   * score is a new maximum of the window). When `isAnomaly` means "score at or above a level" (both
   * sources), these are the points whose kept score reaches that level: one of the sweep's thresholds,
   * so the optimised NAB score is never below the fixed one.
   */
  readonly detections: boolean[];
}

/**
 * Maps one series' detector outputs (in order, one per point; undefined = no output, scores 0) to NAB
 * anomaly scores (`source`, then `newMaxOnly` over `dedupeWindow` points) and detections.
 */
export function nabAnomalyScores(
  results: readonly (ScoredEvent | undefined)[],
  dedupeWindow = DEFAULT_DEDUPE_WINDOW,
  source: NabScoreSource = 'tail',
): NabSeriesScores {
  let raw: number[];
  if (source === 'detector') {
    raw = results.map((r) =>
      r === undefined || !Number.isFinite(r.anomalyScore) ? 0 : Math.min(1, Math.max(0, r.anomalyScore)),
    );
  } else {
    const tail = new TailScore();
    raw = results.map((r) => (r === undefined ? 0 : tail.next(r)));
  }
  const scores = newMaxOnly(raw, dedupeWindow);
  const detections = results.map((r, i) => r?.isAnomaly === true && scores[i]! > 0);
  return { scores, raw, detections };
}
