/** Result types of the NAB evaluation, shared by the run and its report. */
import type { AppConfig } from '../config/schema.js';
import type { NabProfileName, NabResult, NabSeries } from './nab-score.js';
import type { NabScoring } from './nab-scoring.js';

/** One series' run. */
export interface NabSeriesRun {
  readonly name: string;
  readonly points: number;
  readonly windows: number;
  /** Points flagged at the configured threshold (after repeat suppression). */
  readonly detections: number;
  readonly seconds: number;
}

/** What `evaluateNab` returns and writes to results.json (NaN is written as null). */
export interface NabEvaluation {
  readonly mode: 'nab';
  readonly dir: string;
  readonly detector: string;
  readonly series: number;
  readonly windows: number;
  readonly points: number;
  /** Optimised-threshold summary per profile (same numbers as `scores[p].optimised.total`). */
  readonly profiles: Readonly<Record<NabProfileName, NabResult>>;
  /** Per profile: fixed (configured) and optimised threshold, per series, category and in total. */
  readonly scores: NabScoring;
  readonly perSeries: readonly NabSeriesRun[];
  readonly dedupeWindow: number;
  readonly anomalyScore: string;
  /** Where the configured threshold lies on the anomaly-score scale (the fixed detections' level). */
  readonly fixedThreshold: number;
  readonly configSource: string;
  readonly configUsed: AppConfig;
  readonly seed: number;
  readonly eventsPerSecond: number;
  readonly elapsedSeconds: number;
}

/** Per-series detail for the report. */
export interface NabDetail {
  readonly result: NabEvaluation;
  readonly corpus: readonly NabSeries[];
  readonly scores: readonly (readonly number[])[];
  /** Anomaly scores before repeat suppression. */
  readonly rawScores: readonly (readonly number[])[];
  readonly detections: readonly (readonly boolean[])[];
}
