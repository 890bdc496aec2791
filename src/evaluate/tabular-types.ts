/** Result types of the tabular evaluation, shared by the run and its report. */
import type { AppConfig } from '../config/schema.js';
import type { TimeToFirstAlert } from './metrics.js';

/** What `evaluateTabular` returns and writes to results.json (NaN is written as null). */
export interface TabularResult {
  readonly mode: 'tabular';
  /** File name without .csv / .csv.gz. */
  readonly dataset: string;
  readonly file: string;
  readonly rows: number;
  /** Rows labelled anomalous. */
  readonly anomalies: number;
  /** Rows scored while the detector was warming up (they neither alert nor count as scored). */
  readonly warming: number;
  readonly deadLettered: number;
  /** Area under ROC over all rows, ranking by −log p(x); warming and dead-lettered rows rank lowest. */
  readonly rocAuc: number;
  /** Average precision over the same ranking; chance level = anomalies / rows. */
  readonly prAuc: number;
  /** Rows the detector scored (neither warming nor dead-lettered). */
  readonly scoredRows: number;
  /** Area under ROC over the scored rows only (warming and dead-lettered rows left out, not ranked). */
  readonly rocAucScoredOnly: number;
  /** Average precision over the scored rows only; chance level = their anomaly share. */
  readonly prAucScoredOnly: number;
  /** At the configured threshold (`isAnomaly`), over all rows. */
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Rows flagged `isAnomaly`. */
  readonly flagged: number;
  readonly truePositives: number;
  /** Alert rate the threshold policy is configured for (threshold.quantile or .alpha); NaN for static. */
  readonly configuredAlertRate: number;
  /** Rows flagged over rows scored (neither warming nor dead-lettered): what the configured rate bounds. */
  readonly realisedAlertRate: number;
  /** Alerts written (after suppression) per 10 000 rows. */
  readonly alertsPer10k: number;
  /** Delays (events) from each labelled anomaly run's start to its first flagged row. */
  readonly timeToFirstAlert: Omit<TimeToFirstAlert, 'perRun'>;
  readonly scoreDefinition: string;
  readonly configSource: string;
  readonly configUsed: AppConfig;
  readonly seed: number;
  /** Rows per second of wall time, backend start-up and model build included. */
  readonly eventsPerSecond: number;
  readonly elapsedSeconds: number;
  /** Per row: −log p(x) in nats, null for warming or dead-lettered rows. */
  readonly scores?: readonly (number | null)[];
}

/** Everything the report needs beyond the result. */
export interface TabularDetail {
  readonly result: TabularResult;
  /** Ranking scores (−log p, −Infinity for unscored rows). */
  readonly ranking: readonly number[];
  readonly labels: readonly boolean[];
  readonly flagged: readonly boolean[];
  /** Per row: scored while the detector was warming up (shaded in the timeline, left out of one ROC). */
  readonly warming: readonly boolean[];
  /** −threshold per row (nats, as the ranking), NaN where none applied. */
  readonly thresholds: readonly number[];
}
