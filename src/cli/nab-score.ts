/**
 * Numenta Anomaly Benchmark scoring (Lavin & Ahmad 2015; numenta/NAB `sweeper.py` and the normalisation of
 * `runner.py`): scaled-sigmoid window credit, profile weights, 15% probation, one threshold swept over the
 * corpus, normalised so the null detector scores 0 and the perfect one 100.
 */
import { InvalidOptionError } from '../errors.js';

/** NAB cost profile. */
export interface NabProfile {
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}

/** The three NAB profiles. */
export const NAB_PROFILES: Readonly<Record<'standard' | 'reward_low_FP' | 'reward_low_FN', NabProfile>> = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  reward_low_FP: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  reward_low_FN: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
};

/** One labelled series. Timestamps are epoch ms (NAB's naive times read as UTC). */
export interface NabSeries {
  /** `<category>/<file>.csv`, the key of the labels file. */
  readonly name: string;
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
  /** Anomaly windows as inclusive [start, end] epoch ms. */
  readonly windows: readonly (readonly [number, number])[];
}

/** NAB's credit of a detection at a relative position (−1 = window start, 0 = window end, > 0 after it). */
export function scaledSigmoid(position: number): number {
  return position >= 3 ? -1 : 2 / (1 + Math.exp(5 * position)) - 1;
}

/** A point of a series, ready for the threshold sweep. */
export interface SweepPoint {
  readonly anomalyScore: number;
  /** Weighted credit if detected: TP credit in a window, FP cost (≤ 0) outside. */
  readonly sweepScore: number;
  /** `<series>|<window index>` inside a window, null outside, 'probationary' in the probation period. */
  readonly window: string | null;
}

/** Per-point credits of one series, as NAB's `calcSweepScore`. */
export function sweepPoints(
  series: NabSeries,
  scores: readonly number[],
  profile: NabProfile,
  probationPercent = 0.15,
): SweepPoint[] {
  const { timestamps, windows } = series;
  const n = timestamps.length;
  const probation = Math.min(Math.floor(probationPercent * n), probationPercent * 5000);
  const maxTp = scaledSigmoid(-1);
  const ranges = windows.map(([a, b]) => windowIndices(timestamps, a, b));
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
      const past = prevRight === null ? 3 : Math.abs(prevRight - i) / (prevWidth - 1);
      sweepScore = scaledSigmoid(past) * profile.fpWeight;
    }
    const window = i < probation ? 'probationary' : inside ? `${series.name}|${w}` : null;
    out.push({ anomalyScore: scores[i] ?? 0, sweepScore, window });
  }
  return out;
}

/** Index range of a window: first timestamp ≥ start to last ≤ end. */
function windowIndices(ts: readonly number[], start: number, end: number): [number, number] {
  const left = ts.findIndex((t) => t >= start);
  let right = left;
  while (right + 1 < ts.length && ts[right + 1]! <= end) right++;
  if (left < 0 || ts[left]! > end) {
    throw new InvalidOptionError(`anomaly window [${start}, ${end}] holds no point of the series`);
  }
  return [left, right];
}

/** Best threshold and its raw score over all points (NAB `calcScoreByThreshold` + optimizer). */
export function bestThreshold(
  points: readonly SweepPoint[],
  profile: NabProfile,
): { threshold: number; score: number } {
  const scorable = points.filter((p) => p.window !== 'probationary');
  scorable.sort((a, b) => b.anomalyScore - a.anomalyScore);
  const parts = new Map<string, number>();
  for (const p of scorable) if (p.window !== null) parts.set(p.window, -profile.fnWeight);
  let fp = 0;
  const total = (): number => fp + [...parts.values()].reduce((s, v) => s + v, 0);
  let best = { threshold: 1.1, score: total() };
  for (let i = 0; i < scorable.length; i++) {
    const p = scorable[i]!;
    if (p.window === null) fp += p.sweepScore;
    else parts.set(p.window, Math.max(parts.get(p.window)!, p.sweepScore));
    // Points tied on the score share the threshold: evaluate after the last of them.
    if (scorable[i + 1]?.anomalyScore === p.anomalyScore) continue;
    const score = total();
    if (score > best.score) best = { threshold: p.anomalyScore, score };
  }
  return best;
}

/** NAB result of a detector on a corpus, for one profile. */
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
  // As NAB's runner: the null detector never fires (every scorable window missed); the perfect one is
  // credited tpWeight for every labelled window.
  const scorable = new Set(
    points.flatMap((p) => (p.window === null || p.window === 'probationary' ? [] : [p.window])),
  );
  const nullScore = -profile.fnWeight * scorable.size;
  const perfectScore = profile.tpWeight * corpus.reduce((s, c) => s + c.windows.length, 0);
  const span = perfectScore - nullScore;
  return {
    threshold: best.threshold,
    raw: best.score,
    nullScore,
    perfectScore,
    normalised: span > 0 ? (100 * (best.score - nullScore)) / span : 0,
  };
}
