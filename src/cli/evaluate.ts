/**
 * `evaluate`: runs the time-series mode over NAB-style `timestamp,value` CSV series, a fresh detector per
 * series, and scores the detections with the NAB rules (`nab-score.ts`).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { AppConfig } from '../config/schema.js';
import { createDetector } from '../detector/factory.js';
import { InvalidOptionError } from '../errors.js';
import {
  TimeSeriesDetector,
  TimeSeriesFeaturizer,
  timeSeriesOptionsFromConfig,
} from '../streams/timeseries.js';
import type { FeatureEvent, ScoredEvent } from '../streams/types.js';
import { NAB_PROFILES, type NabProfile, type NabResult, type NabSeries, nabScore } from './nab-score.js';

/** Epoch ms of a NAB time such as `2014-02-19 10:50:00` or `2014-02-19 10:50:00.000000`, read as UTC. */
export function parseNabTime(text: string): number {
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?$/.exec(text.trim());
  const t =
    m === null ? Number.NaN : Date.parse(`${m[1]}T${m[2]}.${(m[3] ?? '0').padEnd(3, '0').slice(0, 3)}Z`);
  if (!Number.isFinite(t))
    throw new InvalidOptionError(`"${text}" is not a NAB timestamp (YYYY-MM-DD hh:mm:ss)`);
  return t;
}

/** Reads `<dir>/data/<category>/<name>.csv` and `<dir>/labels/combined_windows.json`. */
export async function readNabCorpus(dir: string, filter?: RegExp): Promise<NabSeries[]> {
  const labels = JSON.parse(await readFile(join(dir, 'labels', 'combined_windows.json'), 'utf8')) as Record<
    string,
    [string, string][]
  >;
  const root = join(dir, 'data');
  const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.csv')).sort();
  const out: NabSeries[] = [];
  for (const file of files) {
    const name = relative(root, join(root, file)).split('\\').join('/');
    if (filter !== undefined && !filter.test(name)) continue;
    const rows = (await readFile(join(root, file), 'utf8')).trim().split(/\r?\n/).slice(1);
    const timestamps = rows.map((r) => parseNabTime(r.split(',')[0]!));
    const values = rows.map((r) => Number(r.split(',')[1]));
    const windows = (labels[name] ?? []).map(([a, b]) => [parseNabTime(a), parseNabTime(b)] as const);
    out.push({ name, timestamps, values, windows });
  }
  return out;
}

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
 * Anomaly score (see `TailScore`) of every point of `series` under a fresh time-series detector built
 * from `config` (`timeseries.enabled` must be set), fed in micro-batches of `batchSize`.
 */
export async function scoreSeries(series: NabSeries, config: AppConfig, batchSize = 32): Promise<number[]> {
  const options = timeSeriesOptionsFromConfig(config);
  if (options === null) throw new InvalidOptionError('evaluate needs timeseries.enabled: true');
  const parts = createDetector(config);
  try {
    const detector = new TimeSeriesDetector(new TimeSeriesFeaturizer(options), parts.detector);
    const tail = new TailScore();
    const scores: number[] = [];
    for (let s = 0; s < series.values.length; s += batchSize) {
      const batch: FeatureEvent[] = [];
      for (let i = s; i < Math.min(series.values.length, s + batchSize); i++) {
        batch.push({
          ref: { topic: series.name, partition: 0, offset: String(i) },
          timestamp: series.timestamps[i]!,
          key: null,
          features: Float32Array.of(series.values[i]!),
        });
      }
      for (const r of await detector.process(batch)) scores.push(tail.next(r));
    }
    return scores;
  } finally {
    parts.dispose();
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

/** Options of `evaluateNab`. */
export interface EvaluateOptions {
  /** NAB-style directory: `data/<category>/<name>.csv` and `labels/combined_windows.json`. */
  readonly dir: string;
  /** Detector config; `timeseries.enabled` must be set. */
  readonly config: AppConfig;
  /** Only series whose `<category>/<name>.csv` matches. */
  readonly filter?: RegExp;
  /** Points over which repeated detections are suppressed (`newMaxOnly`); default 100, 0 = off. */
  readonly dedupeWindow?: number;
  /** Called after each series, e.g. for progress. */
  readonly onSeries?: (series: NabSeries, scores: readonly number[]) => void;
}

/** Corpus size and the NAB result of every profile. */
export interface EvaluateResult {
  readonly series: number;
  readonly windows: number;
  readonly points: number;
  readonly profiles: Readonly<Record<keyof typeof NAB_PROFILES, NabResult>>;
}

/** Scores every series with a fresh detector (the NAB protocol) and computes the three NAB profiles. */
export async function evaluateNab(options: EvaluateOptions): Promise<EvaluateResult> {
  const corpus = await readNabCorpus(options.dir, options.filter);
  if (corpus.length === 0) throw new InvalidOptionError(`no NAB series found under ${options.dir}/data`);
  const scores: number[][] = [];
  for (const series of corpus) {
    const s = newMaxOnly(await scoreSeries(series, options.config), options.dedupeWindow ?? 100);
    scores.push(s);
    options.onSeries?.(series, s);
  }
  const profile = (p: NabProfile): NabResult => nabScore(corpus, scores, p);
  return {
    series: corpus.length,
    windows: corpus.reduce((s, c) => s + c.windows.length, 0),
    points: corpus.reduce((s, c) => s + c.values.length, 0),
    profiles: {
      standard: profile(NAB_PROFILES.standard),
      reward_low_FP: profile(NAB_PROFILES.reward_low_FP),
      reward_low_FN: profile(NAB_PROFILES.reward_low_FN),
    },
  };
}
