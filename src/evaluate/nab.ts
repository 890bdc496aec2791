/**
 * `evaluate nab`: every series of a NAB corpus through the production pipeline in univariate time-series
 * mode, a fresh detector per series (the NAB protocol); NAB results files; NAB scores per series, category
 * and corpus for the three profiles, at the configured threshold and at the threshold optimised over the
 * corpus.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigOverrides } from '../config/load.js';
import { redactConfig } from '../config/redact.js';
import type { AppConfig } from '../config/schema.js';
import { timeSeriesOptionsFromConfig } from '../detector/timeseries/index.js';
import { InvalidOptionError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { SourceRecord } from '../streams/types.js';
import { loadEvaluationConfig, NAB_CONFIG_FILE, NAB_DEFAULTS } from './config.js';
import { DEFAULT_DEDUPE_WINDOW, NAB_SCORE_SOURCES, nabAnomalyScores } from './nab-anomaly-score.js';
import { nabResultsPath, readNabCorpus, windowLabels, writeNabResults } from './nab-corpus.js';
import { writeNabReport } from './nab-report.js';
import { NAB_PROFILE_NAMES, type NabProfileName, type NabResult, type NabSeries } from './nab-score.js';
import { type NabScoring, scoreNabCorpus } from './nab-scoring.js';
import type { NabDetail, NabEvaluation, NabSeriesRun } from './nab-types.js';
import { jsonRecord, runStream } from './run-stream.js';

/** Name of our detector in NAB results paths. */
export const NAB_DETECTOR_NAME = 'flowsentinel';

/** Options of `evaluateNab`. */
export interface NabOptions {
  /** NAB-style directory: `data/<category>/<name>.csv` and `labels/combined_windows.json`. */
  readonly dir: string;
  /** A loaded config (`timeseries.enabled` must be set); otherwise `configFile` / config/nab.yaml / defaults. */
  readonly config?: AppConfig;
  readonly configFile?: string;
  readonly overrides?: ConfigOverrides;
  /** FLOWSENTINEL_* variables to apply (default none). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** model.seed. */
  readonly seed?: number;
  /** Only series whose `<category>/<name>.csv` matches. */
  readonly filter?: RegExp;
  /** Points over which repeated detections are suppressed (`newMaxOnly`); default 100, 0 = off. */
  readonly dedupeWindow?: number;
  /** Writes results.json, report.html and results/<category>/flowsentinel_<name>.csv here when set. */
  readonly outDir?: string;
  readonly logger?: Logger;
  /** Called after each series with its anomaly scores. */
  readonly onSeries?: (series: NabSeries, scores: readonly number[]) => void;
  /** Called after each micro-batch: points done, points in the corpus, and the detail. */
  readonly onProgress?: (done: number, total: number, progress: NabProgress) => void;
}

/** Progress of a NAB run. */
export interface NabProgress {
  /** Points done in the corpus, and its size. */
  readonly done: number;
  readonly total: number;
  /** 0-based index and name of the series in progress, and the number of series. */
  readonly series: number;
  readonly seriesName: string;
  readonly seriesCount: number;
  /** Points done in this series, and its size. */
  readonly seriesDone: number;
  readonly seriesPoints: number;
  /** Points of this series flagged so far. */
  readonly seriesFlagged: number;
}

export type { NabDetail, NabEvaluation, NabSeriesRun } from './nab-types.js';

function* seriesRecords(series: NabSeries, field: string): Generator<SourceRecord> {
  for (let i = 0; i < series.values.length; i++) {
    yield jsonRecord(series.name, i, series.timestamps[i]!, { [field]: series.values[i] });
  }
}

function resolveConfig(o: NabOptions): { config: AppConfig; source: string } {
  const loaded =
    o.config !== undefined
      ? { config: o.config, source: 'given config' }
      : loadEvaluationConfig({
          ...(o.configFile === undefined ? {} : { file: o.configFile }),
          defaultFile: NAB_CONFIG_FILE,
          defaults: NAB_DEFAULTS,
          ...(o.env === undefined ? {} : { env: o.env }),
          ...(o.overrides === undefined ? {} : { overrides: o.overrides }),
          ...(o.seed === undefined ? {} : { seed: o.seed }),
          fields: ['value'],
        });
  if (timeSeriesOptionsFromConfig(loaded.config) === null) {
    throw new InvalidOptionError('evaluate nab needs timeseries.enabled: true in the config');
  }
  return loaded;
}

/** Optimised-threshold summary per profile. */
function optimisedSummaries(scoring: NabScoring): Record<NabProfileName, NabResult> {
  return Object.fromEntries(
    NAB_PROFILE_NAMES.map((p) => {
      const t = scoring[p].optimised;
      const summary: NabResult = {
        threshold: t.threshold,
        raw: t.total.raw,
        nullScore: t.total.nullScore,
        perfectScore: t.total.perfectScore,
        normalised: t.total.normalised,
      };
      return [p, summary];
    }),
  ) as Record<NabProfileName, NabResult>;
}

/** Where one series sits in the corpus run. */
interface SeriesSlot {
  readonly series: NabSeries;
  readonly index: number;
  readonly count: number;
  /** Points in the corpus, and done before this series. */
  readonly total: number;
  readonly done: number;
}

/** Runs one series with a fresh detector, reports progress, and writes its NAB results file. */
async function runSeries(
  config: AppConfig,
  o: NabOptions,
  slot: SeriesSlot,
  source: keyof typeof NAB_SCORE_SOURCES,
): Promise<{
  run: Awaited<ReturnType<typeof runStream>>;
  s: ReturnType<typeof nabAnomalyScores>;
  doneAfter: number;
}> {
  const { series, index } = slot;
  let done = slot.done;
  let seriesDone = 0;
  let seriesFlagged = 0;
  const field = config.features.fields[0]!;
  const run = await runStream(config, seriesRecords(series, field), series.values.length, {
    ...(o.logger ? { logger: o.logger } : {}),
    onBatch: (info) => {
      done += info.results.length;
      seriesDone += info.results.length;
      seriesFlagged += info.anomalies;
      o.onProgress?.(done, slot.total, {
        done,
        total: slot.total,
        series: index,
        seriesName: series.name,
        seriesCount: slot.count,
        seriesDone,
        seriesPoints: series.values.length,
        seriesFlagged,
      });
    },
  });
  const s = nabAnomalyScores(run.results, o.dedupeWindow ?? DEFAULT_DEDUPE_WINDOW, source);
  o.onSeries?.(series, s.scores);
  if (o.outDir !== undefined) {
    const path = nabResultsPath(o.outDir, NAB_DETECTOR_NAME, series.name);
    await writeNabResults(path, series, s.scores, windowLabels(series));
  }
  return { run, s, doneAfter: done };
}

/** results.json and report.html. */
async function writeNabOutputs(outDir: string, detail: NabDetail): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'results.json'), `${JSON.stringify(detail.result, null, 2)}\n`);
  await writeNabReport(join(outDir, 'report.html'), detail);
}

/** Runs and scores the corpus; returns the result with the per-series detail the report uses. */
export async function evaluateNabDetail(o: NabOptions): Promise<NabDetail> {
  const { config, source: configSource } = resolveConfig(o);
  const dedupeWindow = o.dedupeWindow ?? DEFAULT_DEDUPE_WINDOW;
  const corpus = await readNabCorpus(o.dir, o.filter);
  if (corpus.length === 0) throw new InvalidOptionError(`no NAB series found under ${o.dir}/data`);
  const total = corpus.reduce((s, c) => s + c.values.length, 0);
  // With per-series scoring (timeseries.scoring) the detector's anomalyScore is already comparable.
  const seriesScoring = timeSeriesOptionsFromConfig(config)?.scoring;
  const source = seriesScoring?.enabled === true ? 'detector' : 'tail';
  const scores: number[][] = [];
  const rawScores: number[][] = [];
  const detections: boolean[][] = [];
  const perSeries: NabSeriesRun[] = [];
  let done = 0;
  let elapsedMs = 0;
  for (const [index, series] of corpus.entries()) {
    const slot = { series, index, count: corpus.length, total, done };
    const { run, s, doneAfter } = await runSeries(config, o, slot, source);
    done = doneAfter;
    elapsedMs += run.elapsedMs;
    scores.push(s.scores);
    rawScores.push(s.raw);
    detections.push(s.detections);
    perSeries.push({
      name: series.name,
      points: series.values.length,
      windows: series.windows.length,
      detections: s.detections.filter(Boolean).length,
      seconds: run.elapsedMs / 1000,
    });
  }
  const scoring = scoreNabCorpus(corpus, scores, detections);
  const profiles = optimisedSummaries(scoring);
  const result: NabEvaluation = {
    mode: 'nab',
    dir: o.dir,
    detector: NAB_DETECTOR_NAME,
    series: corpus.length,
    windows: corpus.reduce((s, c) => s + c.windows.length, 0),
    points: total,
    profiles,
    scores: scoring,
    perSeries,
    dedupeWindow,
    anomalyScore: NAB_SCORE_SOURCES[source],
    fixedThreshold: source === 'detector' ? (seriesScoring?.threshold ?? Number.NaN) : 0.5,
    configSource,
    configUsed: redactConfig(config),
    seed: config.model.seed,
    eventsPerSecond: elapsedMs > 0 ? total / (elapsedMs / 1000) : Number.NaN,
    elapsedSeconds: elapsedMs / 1000,
  };
  const detail: NabDetail = { result, corpus, scores, rawScores, detections };
  if (o.outDir !== undefined) await writeNabOutputs(o.outDir, detail);
  return detail;
}

/** Scores every series with a fresh detector (the NAB protocol) and computes the NAB scores. */
export async function evaluateNab(o: NabOptions): Promise<NabEvaluation> {
  return (await evaluateNabDetail(o)).result;
}

/** Human summary of a NAB evaluation. */
export function formatNabSummary(r: NabEvaluation, outDir?: string): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const lines = [
    `flowsentinel evaluate nab: ${r.series} series, ${r.windows} windows, ${r.points} points, ${r.elapsedSeconds.toFixed(0)} s`,
    '  profile          fixed threshold   optimised threshold (t)',
  ];
  for (const p of NAB_PROFILE_NAMES) {
    const s = r.scores[p];
    lines.push(
      `  ${p.padEnd(16)} ${f(s.fixed.total.normalised).padStart(15)}   ${f(s.optimised.total.normalised).padStart(9)} (${s.optimised.threshold.toFixed(4)})`,
    );
  }
  if (outDir !== undefined) {
    lines.push(
      `  results          ${join(outDir, 'results.json')}`,
      `  report           ${join(outDir, 'report.html')}`,
    );
  }
  return lines.join('\n');
}
