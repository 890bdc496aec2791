/**
 * Seeded synthetic evaluation details for the report tests: no detector run, no files read. The shapes are
 * chosen so every part of a report has something to draw: warm-up rows (some labelled anomalies among
 * them, which rank lowest and make the all-rows ROC step at FPR 1), flagged rows, thresholds; NAB series
 * with and without windows, of known value ranges.
 */
import { loadConfig } from '../../src/config/load.js';
import { createRng } from '../../src/core/rng.js';
import { rocAuc } from '../../src/evaluate/metrics.js';
import type { NabSeries } from '../../src/evaluate/nab-score.js';
import { scoreNabCorpus } from '../../src/evaluate/nab-scoring.js';
import type { NabDetail } from '../../src/evaluate/nab-types.js';
import type { TabularDetail } from '../../src/evaluate/tabular-types.js';

/** Rows of `tabularDetail()`, and its warm-up rows (the first ones). */
export const TABULAR_ROWS = 1500;
export const TABULAR_WARMING = 200;

/**
 * A tabular evaluation of 1500 rows: 200 warm-up rows, an anomaly every 50 rows (also during warm-up), with
 * heavy-tailed anomaly scores, as real ones are.
 */
export function tabularDetail(): TabularDetail {
  const rng = createRng(3);
  const n = TABULAR_ROWS;
  const warming = Array.from({ length: n }, (_, i) => i < TABULAR_WARMING);
  const labels = Array.from({ length: n }, (_, i) => i % 50 === 10);
  // −log p in nats: about normal for normal rows, heavy-tailed (3 to 1000 nats) for anomalies.
  const ranking = labels.map((l, i) => {
    if (warming[i]) return Number.NEGATIVE_INFINITY;
    return l ? 3 + 10 ** (3 * rng.uniform()) : rng.normal();
  });
  const flagged = ranking.map((s) => s > 2.5);
  const config = loadConfig({ env: {}, overrides: { features: { fields: ['x0', 'x1'] } } });
  const result = {
    mode: 'tabular',
    dataset: 'synthetic',
    file: 'synthetic.csv',
    rows: n,
    anomalies: labels.filter(Boolean).length,
    warming: TABULAR_WARMING,
    deadLettered: 0,
    rocAuc: rocAuc(ranking, labels),
    prAuc: 0.8,
    scoredRows: n - TABULAR_WARMING,
    rocAucScoredOnly: rocAuc(
      ranking.filter((_, i) => !warming[i]),
      labels.filter((_, i) => !warming[i]),
    ),
    prAucScoredOnly: 0.82,
    precision: 0.7,
    recall: 0.8,
    f1: 0.75,
    flagged: flagged.filter(Boolean).length,
    truePositives: 20,
    configuredAlertRate: 0.01,
    realisedAlertRate: 0.02,
    alertsPer10k: 200,
    timeToFirstAlert: { runs: 30, detected: 20, missed: 10, mean: 0, median: 0, max: 0 },
    scoreDefinition: '−log p(x)',
    configSource: 'built-in defaults',
    configUsed: config,
    seed: 42,
    eventsPerSecond: 1000,
    elapsedSeconds: 1.5,
  } as const;
  return {
    result,
    ranking,
    labels,
    flagged,
    warming,
    thresholds: ranking.map((_, i) => (warming[i] ? Number.NaN : 2.5)),
  };
}

/** The configured threshold of `nabDetail()` (on the anomaly score). */
export const NAB_FIXTURE_THRESHOLD = 0.999;

/** One NAB fixture series: its name, length, window centre (none if undefined) and value range. */
export interface NabFixtureSeries {
  readonly name: string;
  readonly points: number;
  readonly window?: number;
}

/** The series of `nabDetail()`, in corpus order. */
export const NAB_FIXTURE: readonly NabFixtureSeries[] = [
  { name: 'catA/a.csv', points: 800, window: 600 },
  { name: 'catA/b.csv', points: 500 },
  { name: 'catB/c.csv', points: 3000, window: 2000 },
];

/** Values of a fixture series: a daily-ish sine plus seeded noise, 5-minute steps from 2015-01-01 UTC. */
function fixtureSeries(f: NabFixtureSeries, seed: number): NabSeries {
  const rng = createRng(seed);
  const step = 300_000;
  const timestamps = Array.from({ length: f.points }, (_, i) => Date.UTC(2015, 0, 1) + i * step);
  const values = timestamps.map((_, i) => 50 + 20 * Math.sin(i / 40) + 3 * rng.normal());
  const windows: [number, number][] =
    f.window === undefined ? [] : [[timestamps[f.window - 20]!, timestamps[f.window + 20]!]];
  return { name: f.name, timestamps, values, windows };
}

/** A NAB evaluation of the `NAB_FIXTURE` series with seeded anomaly scores and p-value scoring. */
export function nabDetail(): NabDetail {
  const rng = createRng(4);
  const corpus = NAB_FIXTURE.map((f, i) => fixtureSeries(f, 10 + i));
  // 1 − p: p uniform for normal points; p < 1e-4 on every 7th point of a window (as p-value scores are).
  const scores = corpus.map((s) =>
    s.timestamps.map((t, i) => {
      const inside = s.windows.some(([a, b]) => t >= a && t <= b);
      return 1 - (inside && i % 7 === 0 ? 1e-4 : 1) * rng.uniform();
    }),
  );
  const detections = scores.map((row) => row.map((v) => v >= NAB_FIXTURE_THRESHOLD));
  const scoring = scoreNabCorpus(corpus, scores, detections);
  const config = loadConfig({
    env: {},
    overrides: {
      features: { fields: ['value'] },
      timeseries: {
        enabled: true,
        scoring: { enabled: true, score: 'pvalue', threshold: NAB_FIXTURE_THRESHOLD },
      },
    },
  });
  const profile = { threshold: 0.5, raw: 0, nullScore: -2, perfectScore: 2, normalised: 50 };
  const result: NabDetail['result'] = {
    mode: 'nab',
    dir: 'synthetic',
    detector: 'flowsentinel',
    series: corpus.length,
    windows: 2,
    points: corpus.reduce((s, c) => s + c.values.length, 0),
    profiles: { standard: profile, reward_low_FP: profile, reward_low_FN: profile },
    scores: scoring,
    perSeries: corpus.map((s, i) => ({
      name: s.name,
      points: s.values.length,
      windows: s.windows.length,
      detections: detections[i]!.filter(Boolean).length,
      seconds: 1,
    })),
    dedupeWindow: 100,
    anomalyScore: 'synthetic',
    fixedThreshold: NAB_FIXTURE_THRESHOLD,
    configSource: 'built-in defaults',
    configUsed: config,
    seed: 3,
    eventsPerSecond: 1000,
    elapsedSeconds: 4.3,
  };
  return { result, corpus, scores, rawScores: scores, detections };
}
