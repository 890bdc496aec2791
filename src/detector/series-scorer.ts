/**
 * Per-series anomaly score of the time-series mode (`timeseries.scoring`): the detector's own score
 * (1 − p, its p-value among recent log-likelihoods) or the HTM-style anomaly likelihood of −log p, raised
 * to 1 on a range breakout. See docs/detector.md, "Time-series mode".
 */
import { InvalidOptionError } from '../errors.js';
import {
  AnomalyLikelihood,
  type AnomalyLikelihoodOptions,
  type AnomalyLikelihoodState,
  likelihoodOptionProblems,
} from './anomaly-likelihood.js';
import { RangeBreakout, type RangeBreakoutState } from './range-breakout.js';

/** Options of `SeriesScorer` (config section `timeseries.scoring`). */
export interface SeriesScoringOptions extends AnomalyLikelihoodOptions {
  readonly enabled: boolean;
  /** 'pvalue': the detector's `anomalyScore`; 'likelihood': `AnomalyLikelihood` of −log p. */
  readonly score: 'pvalue' | 'likelihood';
  /** Range breakout tolerance (fraction of the range seen); a breakout scores 1. Negative = off. */
  readonly rangeTolerance: number;
  /** Score in [0, 1] at or above which a scored event is an anomaly. */
  readonly threshold: number;
}

/** JSON form of a `SeriesScorer`, for checkpoints. */
export interface SeriesScorerState {
  readonly range: RangeBreakoutState;
  readonly likelihood?: AnomalyLikelihoodState;
}

/** Problems of `o`, one message each (empty when valid). */
export function seriesScoringProblems(o: SeriesScoringOptions): string[] {
  const problems = o.score === 'likelihood' ? likelihoodOptionProblems(o) : [];
  if (o.score !== 'pvalue' && o.score !== 'likelihood') {
    problems.push(`score must be 'pvalue' or 'likelihood', got ${String(o.score)}`);
  }
  if (!Number.isFinite(o.rangeTolerance))
    problems.push(`rangeTolerance must be finite, got ${o.rangeTolerance}`);
  if (!(o.threshold >= 0 && o.threshold <= 1))
    problems.push(`threshold must be in [0, 1], got ${o.threshold}`);
  return problems;
}

/** Scores one series' events in order; deterministic, O(1) state. */
export class SeriesScorer {
  private readonly range: RangeBreakout;
  private readonly likelihood: AnomalyLikelihood | undefined;

  constructor(readonly options: SeriesScoringOptions) {
    const problems = seriesScoringProblems(options);
    if (problems.length > 0) throw new InvalidOptionError(`timeseries.scoring: ${problems.join('; ')}`);
    this.range = new RangeBreakout(Math.max(0, options.rangeTolerance));
    this.likelihood = options.score === 'likelihood' ? new AnomalyLikelihood(options) : undefined;
  }

  /**
   * Score in [0, 1] of the next event: `value` its raw value, `logLikelihood` the detector's log p (NaN
   * when not scored), `detectorScore` the detector's `anomalyScore`, `scored` false while it warms up
   * (then the score is 0, as nothing alerts yet, but the range and the likelihood still learn).
   */
  next(value: number, logLikelihood: number, detectorScore: number, scored: boolean): number {
    const breakout = this.range.next(value) && this.options.rangeTolerance >= 0;
    const base = this.likelihood ? this.likelihood.next(-logLikelihood) : detectorScore;
    if (!scored) return 0;
    return breakout ? 1 : base;
  }

  getState(): SeriesScorerState {
    const state = { range: this.range.getState() };
    return this.likelihood ? { ...state, likelihood: this.likelihood.getState() } : state;
  }

  /** Restores `getState()` output (throws `SerializationError` when malformed). */
  setState(state: SeriesScorerState): void {
    this.range.setState(state.range);
    if (this.likelihood && state.likelihood) this.likelihood.setState(state.likelihood);
  }
}
