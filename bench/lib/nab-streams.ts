/**
 * Per-series conditional-surprise streams for the NAB protocol, cached on disk by (model options,
 * corpus), so a post-processing or threshold choice never reruns the model.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppConfig } from '../../src/config/index.js';
import { createDetector } from '../../src/detector/factory.js';
import { RangeBreakout } from '../../src/detector/range-breakout.js';
import { type ConditionalOptions, ConditionalSurprise } from '../../src/detector/timeseries/conditional.js';
import {
  TimeSeriesDetector,
  TimeSeriesFeaturizer,
  timeSeriesOptionsFromConfig,
} from '../../src/detector/timeseries/index.js';
import { type SurpriseScoreOptions, SurpriseScorer } from '../../src/detector/timeseries/surprise-score.js';
import { InvalidOptionError } from '../../src/errors.js';
import { newMaxOnly } from '../../src/evaluate/nab-anomaly-score.js';
import type { NabSeries } from '../../src/evaluate/nab-score.js';
import type { FeatureEvent } from '../../src/streams/types.js';

/** Bump when the conditional model's code changes, so cached streams are not reused. */
const MODEL_VERSION = 2;

/** Micro-batch size of the NAB runs (as config/nab.yaml's batching.maxSize). */
export const NAB_BATCH = 32;

/** Surprise u_t of every point of one series (NaN while warming), with a fresh model. */
export function surpriseOf(series: NabSeries, options: ConditionalOptions): number[] {
  const model = new ConditionalSurprise(options);
  const out: number[] = [];
  for (let s = 0; s < series.values.length; s += NAB_BATCH) {
    const batch = [];
    for (let i = s; i < Math.min(series.values.length, s + NAB_BATCH); i++) {
      batch.push({ key: null, value: series.values[i]!, timestamp: series.timestamps[i]! });
    }
    out.push(...model.process(batch));
  }
  return out;
}

/** Streams of a corpus and the CPU seconds they took (0 when read from the cache). */
export interface CorpusStreams {
  readonly surprise: number[][];
  /** The joint flow detector's own p-value score (1 − p) per point, 0 while warming (joint streams only). */
  readonly pvalue?: number[][];
  readonly cpuSeconds: number;
  readonly cached: boolean;
}

/** Surprise streams of `corpus` under `options`, from `cacheDir` when computed before. */
export async function corpusStreams(
  corpus: readonly NabSeries[],
  options: ConditionalOptions,
  cacheDir: string,
): Promise<CorpusStreams> {
  const key = createHash('sha256')
    .update(
      JSON.stringify({ v: MODEL_VERSION, options, series: corpus.map((s) => [s.name, s.values.length]) }),
    )
    .digest('hex')
    .slice(0, 16);
  const file = join(cacheDir, `${key}.json`);
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as (number | null)[][];
    return { surprise: saved.map((a) => a.map((u) => u ?? Number.NaN)), cpuSeconds: 0, cached: true };
  } catch {
    // not cached yet
  }
  const cpu = process.cpuUsage();
  const surprise = corpus.map((s) => surpriseOf(s, options));
  const used = process.cpuUsage(cpu);
  await mkdir(cacheDir, { recursive: true });
  await writeFile(file, JSON.stringify(surprise.map((a) => a.map((u) => (Number.isFinite(u) ? u : null)))));
  return { surprise, cpuSeconds: (used.user + used.system) / 1e6, cached: false };
}

/** NAB anomaly scores of one series: the post-processed surprise, repeats within `dedupe` points set to 0. */
export function postProcess(
  series: NabSeries,
  surprise: readonly number[],
  options: SurpriseScoreOptions,
  dedupe: number,
): number[] {
  const scorer = new SurpriseScorer(options);
  return newMaxOnly(
    series.values.map((v, i) => scorer.next(v, surprise[i]!)),
    dedupe,
  );
}

/**
 * Surprise −log p of the joint lag vector under the flow detector of `config` (the pre-conditional
 * time-series mode), per point (NaN while warming): the baseline stream of the protocol.
 */
export async function jointSurpriseOf(
  series: NabSeries,
  config: AppConfig,
): Promise<{ surprise: number[]; pvalue: number[] }> {
  const options = timeSeriesOptionsFromConfig(config);
  if (options === null) throw new InvalidOptionError('the joint baseline needs timeseries.enabled: true');
  const parts = createDetector(config);
  try {
    const detector = new TimeSeriesDetector(
      new TimeSeriesFeaturizer({ ...options, scoring: undefined }),
      parts.detector,
    );
    const out: number[] = [];
    const pvalue: number[] = [];
    for (let s = 0; s < series.values.length; s += NAB_BATCH) {
      const batch: FeatureEvent[] = [];
      for (let i = s; i < Math.min(series.values.length, s + NAB_BATCH); i++) {
        batch.push({
          ref: { topic: series.name, partition: 0, offset: String(i) },
          timestamp: series.timestamps[i]!,
          key: null,
          features: Float32Array.of(series.values[i]!),
        });
      }
      for (const r of await detector.process(batch)) {
        out.push(r.status === 'scored' ? -r.logLikelihood : Number.NaN);
        pvalue.push(r.status === 'scored' ? r.anomalyScore : 0);
      }
    }
    return { surprise: out, pvalue };
  } finally {
    parts.dispose();
  }
}

/** `jointSurpriseOf` for a corpus, cached like `corpusStreams`. */
export async function jointCorpusStreams(
  corpus: readonly NabSeries[],
  config: AppConfig,
  cacheDir: string,
): Promise<CorpusStreams> {
  const key = createHash('sha256')
    .update(JSON.stringify({ v: 2, joint: config, series: corpus.map((s) => [s.name, s.values.length]) }))
    .digest('hex')
    .slice(0, 16);
  const file = join(cacheDir, `joint-${key}.json`);
  const revive = (a: (number | null)[][]) => a.map((r) => r.map((u) => u ?? Number.NaN));
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as { u: (number | null)[][]; p: number[][] };
    return { surprise: revive(saved.u), pvalue: saved.p, cpuSeconds: 0, cached: true };
  } catch {
    // not cached yet
  }
  const cpu = process.cpuUsage();
  const surprise: number[][] = [];
  const pvalue: number[][] = [];
  for (const s of corpus) {
    const r = await jointSurpriseOf(s, config);
    surprise.push(r.surprise);
    pvalue.push(r.pvalue);
  }
  const used = process.cpuUsage(cpu);
  await mkdir(cacheDir, { recursive: true });
  const u = surprise.map((a) => a.map((v) => (Number.isFinite(v) ? v : null)));
  await writeFile(file, JSON.stringify({ u, p: pvalue }));
  return { surprise, pvalue, cpuSeconds: (used.user + used.system) / 1e6, cached: false };
}

/**
 * NAB anomaly scores of one series from the joint flow detector's own p-value score (`pvalue`), raised
 * to 1 on a range breakout (tolerance < 0 = off), repeats within `dedupe` points set to 0: the
 * pre-conditional config/nab.yaml scoring.
 */
export function detectorScores(
  series: NabSeries,
  pvalue: readonly number[],
  rangeTolerance: number,
  dedupe: number,
): number[] {
  const range = new RangeBreakout(Math.max(0, rangeTolerance));
  return newMaxOnly(
    series.values.map((v, i) => {
      const breakout = range.next(v) && rangeTolerance >= 0;
      const p = pvalue[i]!;
      return p > 0 && breakout ? 1 : p;
    }),
    dedupe,
  );
}
