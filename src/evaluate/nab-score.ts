/**
 * Numenta Anomaly Benchmark scoring (Lavin & Ahmad 2015, arXiv 1510.03336; facts checked against
 * numenta/NAB `sweeper.py`, `util.py` and the normalisation of `runner.py`):
 *
 * - probation: the first min(⌊0.15·n⌋, 0.15·5000) points of a series are not scored;
 * - a detection inside a window earns tpWeight · σ̃(−(right − i + 1)/width) / σ̃(−1), σ̃(x) = 2/(1 + e^{5x}) − 1:
 *   1 at the window's first point, ≈0 at its last; only the best (earliest) detection of a window counts;
 * - a window without detection costs fnWeight;
 * - a detection outside windows costs fpWeight · σ̃(|i − prevRight| / (prevWidth − 1)) after a window (milder
 *   right after it), the full fpWeight before the first window or ≥ 3 widths after one;
 * - one threshold for the whole corpus, the best over every distinct anomaly score (NAB's optimizer);
 * - normalised = 100 · (raw − null) / (perfect − null): null = the null detector (constant score, its own best
 *   threshold), perfect = tpWeight per labelled window.
 */
import { InvalidOptionError } from '../errors.js';

/** NAB cost profile. */
export interface NabProfile {
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}

/** The three NAB profiles (NAB config/profiles.json). */
export const NAB_PROFILES = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  reward_low_FP: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  reward_low_FN: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
} as const satisfies Record<string, NabProfile>;

/** Name of a NAB profile. */
export type NabProfileName = keyof typeof NAB_PROFILES;
/** The profile names, in report order. */
export const NAB_PROFILE_NAMES = Object.keys(NAB_PROFILES) as NabProfileName[];

/** Share of each series in probation (NAB's probationPercent). */
export const PROBATION_PERCENT = 0.15;

/** One labelled series. Timestamps are epoch ms (NAB's naive times read as UTC). */
export interface NabSeries {
  /** `<category>/<file>.csv`, the key of the labels file. */
  readonly name: string;
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
  /** Anomaly windows as inclusive [start, end] epoch ms. */
  readonly windows: readonly (readonly [number, number])[];
}

/** NAB's credit at a relative position (−1 = window start, 0 = window end, > 0 after it). */
export function scaledSigmoid(position: number): number {
  return position >= 3 ? -1 : 2 / (1 + Math.exp(5 * position)) - 1;
}

/** Points of a series of `n` points in probation: min(⌊p·n⌋, p·5000). */
export function probationLength(n: number, percent = PROBATION_PERCENT): number {
  return Math.min(Math.floor(percent * n), percent * 5000);
}

/** A point of a series, ready for scoring. */
export interface SweepPoint {
  readonly anomalyScore: number;
  /** Weighted credit if detected: TP credit in a window, FP cost (≤ 0) outside. */
  readonly sweepScore: number;
  /** `<series>|<window index>` inside a window, null outside, 'probationary' in the probation period. */
  readonly window: string | null;
}

/** Index range of a window: first timestamp ≥ start to last ≤ end. */
export function windowIndices(ts: readonly number[], start: number, end: number): [number, number] {
  const left = ts.findIndex((t) => t >= start);
  if (left < 0 || ts[left]! > end) {
    throw new InvalidOptionError(`anomaly window [${start}, ${end}] holds no point of the series`);
  }
  let right = left;
  while (right + 1 < ts.length && ts[right + 1]! <= end) right++;
  return [left, right];
}

/** Per-point credits of one series (NAB `calcSweepScore`); `scores[i]` is point i's anomaly score. */
export function sweepPoints(
  series: NabSeries,
  scores: readonly number[],
  profile: NabProfile,
  probationPercent = PROBATION_PERCENT,
): SweepPoint[] {
  const n = series.timestamps.length;
  if (scores.length !== n) {
    throw new InvalidOptionError(`${series.name}: ${scores.length} anomaly scores for ${n} points`);
  }
  const probation = probationLength(n, probationPercent);
  const maxTp = scaledSigmoid(-1);
  const ranges = series.windows.map(([a, b]) => windowIndices(series.timestamps, a, b));
  const out: SweepPoint[] = [];
  let prevRight: number | null = null;
  let prevWidth = 0;
  let w = 0;
  for (let i = 0; i < n; i++) {
    while (w < ranges.length && ranges[w]![1] < i) {
      prevRight = ranges[w]![1];
      prevWidth = ranges[w]![1] - ranges[w]![0] + 1;
      w++;
    }
    const inside = w < ranges.length && ranges[w]![0] <= i;
    let sweepScore: number;
    if (inside) {
      const [left, right] = ranges[w]!;
      sweepScore = (scaledSigmoid(-(right - i + 1) / (right - left + 1)) * profile.tpWeight) / maxTp;
    } else {
      // NAB divides by zero after a one-point window; such an FP is charged in full here.
      const past = prevRight === null || prevWidth <= 1 ? 3 : Math.abs(i - prevRight) / (prevWidth - 1);
      sweepScore = scaledSigmoid(past) * profile.fpWeight;
    }
    const window = i < probation ? 'probationary' : inside ? `${series.name}|${w}` : null;
    out.push({ anomalyScore: scores[i]!, sweepScore, window });
  }
  return out;
}

/** Raw NAB score of a set of detections, with its counts. */
export interface RawScore {
  readonly raw: number;
  /** Windows with a detection. */
  readonly tp: number;
  /** Detections outside every window (probation excluded). */
  readonly fp: number;
  /** Scorable windows without a detection. */
  readonly fn: number;
}

/** Scores the points `detected` selects (probation ignored), as NAB's scorer at one threshold. */
export function scoreDetections(
  points: readonly SweepPoint[],
  detected: (p: SweepPoint, index: number) => boolean,
  profile: NabProfile,
): RawScore {
  const best = new Map<string, number>();
  let fpCost = 0;
  let fp = 0;
  points.forEach((p, i) => {
    if (p.window === 'probationary') return;
    if (p.window !== null && !best.has(p.window)) best.set(p.window, Number.NEGATIVE_INFINITY);
    if (!detected(p, i)) return;
    if (p.window === null) {
      fp++;
      fpCost += p.sweepScore;
    } else best.set(p.window, Math.max(best.get(p.window)!, p.sweepScore));
  });
  let raw = fpCost;
  let tp = 0;
  for (const v of best.values()) {
    if (v === Number.NEGATIVE_INFINITY) raw -= profile.fnWeight;
    else {
      raw += v;
      tp++;
    }
  }
  return { raw, tp, fp, fn: best.size - tp };
}

/** Detections = points whose anomaly score is ≥ `threshold`. */
export function scoreAtThreshold(
  points: readonly SweepPoint[],
  profile: NabProfile,
  threshold: number,
): RawScore {
  return scoreDetections(points, (p) => p.anomalyScore >= threshold, profile);
}

/**
 * Raw score at every threshold (NAB `calcScoreByThreshold`): from 1.1 (nothing detected) down through every
 * distinct anomaly score, highest first; points tied on the score enter together.
 */
export function sweepCurve(
  points: readonly SweepPoint[],
  profile: NabProfile,
): { readonly threshold: number; readonly score: number }[] {
  const scorable = points.filter((p) => p.window !== 'probationary');
  scorable.sort((a, b) => b.anomalyScore - a.anomalyScore);
  const parts = new Map<string, number>();
  for (const p of scorable) if (p.window !== null) parts.set(p.window, -profile.fnWeight);
  let windowSum = -profile.fnWeight * parts.size;
  let fp = 0;
  // NAB starts at 1.1, above every score in [0, 1]; scores beyond that need a higher start.
  const top = scorable[0]?.anomalyScore ?? 0;
  const out = [{ threshold: top < 1.1 ? 1.1 : Number.POSITIVE_INFINITY, score: windowSum }];
  for (let i = 0; i < scorable.length; i++) {
    const p = scorable[i]!;
    if (p.window === null) fp += p.sweepScore;
    else {
      const old = parts.get(p.window)!;
      if (p.sweepScore > old) {
        parts.set(p.window, p.sweepScore);
        windowSum += p.sweepScore - old;
      }
    }
    if (scorable[i + 1]?.anomalyScore === p.anomalyScore) continue;
    out.push({ threshold: p.anomalyScore, score: fp + windowSum });
  }
  return out;
}

/** Best threshold over all points and its raw score (NAB's optimizer: the first best of `sweepCurve`). */
export function bestThreshold(
  points: readonly SweepPoint[],
  profile: NabProfile,
): { threshold: number; score: number } {
  let best = { threshold: Number.NaN, score: Number.NEGATIVE_INFINITY };
  for (const row of sweepCurve(points, profile)) if (row.score > best.score) best = row;
  return best;
}

/** A NAB score of a group of series (one series, a category or the corpus) under one profile. */
export interface NabScore extends RawScore {
  /** The null detector's raw score on the group. */
  readonly nullScore: number;
  /** tpWeight per labelled window of the group. */
  readonly perfectScore: number;
  /** 100 · (raw − null) / (perfect − null); NaN when the group has no scorable window. */
  readonly normalised: number;
}

/** Normalises a raw score of a group. */
export function normalise(raw: RawScore, nullScore: number, perfectScore: number): NabScore {
  const span = perfectScore - nullScore;
  return {
    ...raw,
    nullScore,
    perfectScore,
    normalised: span > 0 ? (100 * (raw.raw - nullScore)) / span : Number.NaN,
  };
}

/**
 * The null detector's threshold on a corpus: a constant score, detecting everything or nothing, whichever
 * scores better (nothing, on any real corpus). Returns the constant score's points and that threshold.
 */
export function nullDetector(
  corpus: readonly NabSeries[],
  profile: NabProfile,
): { readonly points: SweepPoint[][]; readonly threshold: number } {
  const points = corpus.map((s) =>
    sweepPoints(
      s,
      s.timestamps.map(() => 0.5),
      profile,
    ),
  );
  return { points, threshold: bestThreshold(points.flat(), profile).threshold };
}

/** NAB result of a detector on a corpus, one profile, optimised threshold (the summary form). */
export interface NabResult {
  readonly threshold: number;
  readonly raw: number;
  readonly nullScore: number;
  readonly perfectScore: number;
  /** 100 · (raw − null) / (perfect − null). */
  readonly normalised: number;
}

/** Sweeps one threshold over every series, as NAB's optimizer does, and normalises the best score. */
export function nabScore(
  corpus: readonly NabSeries[],
  scores: readonly (readonly number[])[],
  profile: NabProfile,
): NabResult {
  const points = corpus.flatMap((s, i) => sweepPoints(s, scores[i]!, profile));
  const best = bestThreshold(points, profile);
  const nul = nullDetector(corpus, profile);
  const nullScore = scoreAtThreshold(nul.points.flat(), profile, nul.threshold).raw;
  const perfectScore = profile.tpWeight * corpus.reduce((s, c) => s + c.windows.length, 0);
  const n = normalise(scoreAtThreshold(points, profile, best.threshold), nullScore, perfectScore);
  return { threshold: best.threshold, raw: n.raw, nullScore, perfectScore, normalised: n.normalised };
}
