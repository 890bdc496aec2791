/**
 * `evaluate tabular`: a labelled CSV run row by row, in file order, through the production pipeline
 * (prequential: each micro-batch is scored, then learned), then ROC-AUC, PR-AUC, precision/recall/F1 at
 * the configured threshold, alert rate and detection delays.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ConfigOverrides } from '../config/load.js';
import { redactConfig } from '../config/redact.js';
import type { AppConfig } from '../config/schema.js';
import type { ScoredEvent } from '../core/records.js';
import type { Logger } from '../logging.js';
import type { SourceRecord } from '../streams/types.js';
import { loadEvaluationConfig, TABULAR_CONFIG_FILE, TABULAR_DEFAULTS } from './config.js';
import { averagePrecision, classification, rocAuc, timeToFirstAlert } from './metrics.js';
import { jsonRecord, runStream } from './run-stream.js';
import { type LabelledTable, readLabelledCsv } from './tabular-csv.js';
import { writeTabularReport } from './tabular-report.js';
import type { TabularDetail, TabularResult } from './tabular-types.js';

/** Column read as the event time (epoch ms or an ISO date) when present; never a feature. */
export const TIME_COLUMN = 'timestamp';
/** Event-time step between rows when the CSV has no time column, ms. */
export const ROW_INTERVAL_MS = 1000;

/** Options of `evaluateTabular`. */
export interface TabularOptions {
  /** CSV or gzip CSV with a header row. */
  readonly file: string;
  /** Config file; default config/tabular.yaml when it exists, else `TABULAR_DEFAULTS`. */
  readonly configFile?: string;
  /** Applied over the config (e.g. a benchmark variant). */
  readonly overrides?: ConfigOverrides;
  /** FLOWSENTINEL_* variables to apply (default none). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** model.seed. */
  readonly seed?: number;
  /** Default 'label'. */
  readonly labelColumn?: string;
  /** Only the first rows. */
  readonly maxRows?: number;
  /** Writes results.json and report.html here when set. */
  readonly outDir?: string;
  /** Include the per-row scores in the result (and results.json). */
  readonly includeScores?: boolean;
  readonly logger?: Logger;
  /** Called after each micro-batch: rows done, total rows, rows flagged so far. */
  readonly onProgress?: (done: number, total: number, flagged: number) => void;
}

export type { TabularDetail, TabularResult } from './tabular-types.js';

function parseTime(cell: string | undefined, index: number): number {
  if (cell === undefined) return index * ROW_INTERVAL_MS;
  const n = Number(cell);
  const t = cell.trim() !== '' && Number.isFinite(n) ? n : Date.parse(cell);
  return Number.isFinite(t) ? t : index * ROW_INTERVAL_MS;
}

function* records(table: LabelledTable, fields: readonly string[], topic: string): Generator<SourceRecord> {
  const hasTime = table.columns.includes(TIME_COLUMN) && !fields.includes(TIME_COLUMN);
  for (let i = 0; i < table.rows.length; i++) {
    const row = table.rows[i]!;
    const value: Record<string, string> = {};
    for (const f of fields) if (row[f] !== undefined) value[f] = row[f];
    yield jsonRecord(topic, i, parseTime(hasTime ? row[TIME_COLUMN] : undefined, i), value);
  }
}

/** The dataset name of a path: its base name without .gz and .csv. */
export function datasetName(file: string): string {
  return basename(file)
    .replace(/\.gz$/i, '')
    .replace(/\.csv$/i, '');
}

/** The evaluation config: the given file or config/tabular.yaml, env, overrides, seed; `fields` = features. */
function tabularConfig(o: TabularOptions, features: string[]): ReturnType<typeof loadEvaluationConfig> {
  return loadEvaluationConfig({
    ...(o.configFile === undefined ? {} : { file: o.configFile }),
    defaultFile: TABULAR_CONFIG_FILE,
    defaults: TABULAR_DEFAULTS,
    ...(o.env === undefined ? {} : { env: o.env }),
    ...(o.overrides === undefined ? {} : { overrides: o.overrides }),
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    fields: features,
  });
}

/** The alert rate a threshold config promises: its quantile or α; NaN for the static policy. */
export function configuredAlertRate(t: AppConfig['threshold']): number {
  if (t.policy === 'quantile') return t.quantile;
  if (t.policy === 'pvalue') return t.alpha;
  return Number.NaN;
}

type RankingMetrics = Pick<
  TabularResult,
  'rocAuc' | 'prAuc' | 'scoredRows' | 'rocAucScoredOnly' | 'prAucScoredOnly'
>;

/**
 * The ranking (−log p; −∞ for warming, dead-lettered or non-finite rows) and both protocols' AUCs: over
 * all rows with the unscored ones ranked lowest, and over the scored rows only.
 */
function rankingMetrics(
  results: readonly (ScoredEvent | undefined)[],
  labels: readonly boolean[],
): RankingMetrics & { ranking: number[] } {
  const ranking = results.map((r) =>
    r?.status === 'scored' && Number.isFinite(r.logLikelihood) ? -r.logLikelihood : Number.NEGATIVE_INFINITY,
  );
  const scored = results.map((r) => r?.status === 'scored');
  const scoredRanking = ranking.filter((_, i) => scored[i]);
  const scoredLabels = labels.filter((_, i) => scored[i]);
  return {
    ranking,
    rocAuc: rocAuc(ranking, labels),
    prAuc: averagePrecision(ranking, labels),
    scoredRows: scoredRanking.length,
    rocAucScoredOnly: rocAuc(scoredRanking, scoredLabels),
    prAucScoredOnly: averagePrecision(scoredRanking, scoredLabels),
  };
}

/** Runs the evaluation and returns the result with the per-row detail the report uses. */
export async function evaluateTabularDetail(o: TabularOptions): Promise<TabularDetail> {
  const table = await readLabelledCsv(o.file, o.labelColumn ?? 'label', o.maxRows);
  const features = table.columns.filter((c) => c !== table.labelColumn && c !== TIME_COLUMN);
  const { config, source } = tabularConfig(o, features);
  const n = table.rows.length;
  let done = 0;
  let flaggedSoFar = 0;
  const run = await runStream(config, records(table, config.features.fields, datasetName(o.file)), n, {
    ...(o.logger ? { logger: o.logger } : {}),
    onBatch: (info) => {
      done += info.results.length;
      flaggedSoFar += info.anomalies;
      o.onProgress?.(done, n, flaggedSoFar);
    },
  });
  const { ranking, ...auc } = rankingMetrics(run.results, table.labels);
  const flagged = run.results.map((r) => r?.isAnomaly === true);
  const warming = run.results.map((r) => r?.status === 'warming');
  const thresholds = run.results.map((r) =>
    r?.status === 'scored' && config.threshold.policy !== 'pvalue' ? -r.threshold : Number.NaN,
  );
  const cls = classification(flagged, table.labels);
  const { perRun: _perRun, ...delays } = timeToFirstAlert(flagged, table.labels);
  const seconds = run.elapsedMs / 1000;
  const result: TabularResult = {
    mode: 'tabular',
    dataset: datasetName(o.file),
    file: o.file,
    rows: n,
    anomalies: table.labels.filter(Boolean).length,
    warming: run.summary.warming,
    deadLettered: run.summary.deadLettered,
    ...auc,
    precision: cls.precision,
    recall: cls.recall,
    f1: cls.f1,
    flagged: cls.tp + cls.fp,
    truePositives: cls.tp,
    configuredAlertRate: configuredAlertRate(config.threshold),
    realisedAlertRate: auc.scoredRows > 0 ? (cls.tp + cls.fp) / auc.scoredRows : Number.NaN,
    alertsPer10k: n > 0 ? (run.summary.alerts / n) * 10_000 : Number.NaN,
    timeToFirstAlert: delays,
    scoreDefinition: `${config.model.score === 'latent' ? '−log p_prior(f(x)) (model.score: latent, no log-determinant)' : '−log p(x)'} in nats under the model before it learned the row; rocAuc/prAuc: all rows, warming and dead-lettered rows rank lowest (−Infinity); rocAucScoredOnly/prAucScoredOnly: scored rows only`,
    configSource: source,
    configUsed: redactConfig(config),
    seed: config.model.seed,
    eventsPerSecond: seconds > 0 ? n / seconds : Number.NaN,
    elapsedSeconds: seconds,
    ...(o.includeScores ? { scores: ranking.map((s) => (Number.isFinite(s) ? s : null)) } : {}),
  };
  const detail = { result, ranking, labels: table.labels, flagged, warming, thresholds };
  if (o.outDir !== undefined) await writeTabularOutputs(o.outDir, detail);
  return detail;
}

/** Runs a labelled CSV through the production pipeline and returns its metrics (see `TabularResult`). */
export async function evaluateTabular(o: TabularOptions): Promise<TabularResult> {
  return (await evaluateTabularDetail(o)).result;
}

/** Writes `<outDir>/results.json` and `<outDir>/report.html`. */
export async function writeTabularOutputs(outDir: string, detail: TabularDetail): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'results.json'), `${JSON.stringify(detail.result, null, 2)}\n`);
  await writeTabularReport(join(outDir, 'report.html'), detail);
}
