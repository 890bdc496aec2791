/**
 * Where a NAB candidate loses its points (standard profile, fixed detections): per window the first
 * detection's credit (early = 1, late ≈ 0) or a miss, per false positive its cost; all in normalised
 * points of the group they belong to, 100 · loss / (perfect − null) = 100 · loss / (2 · windows).
 */
import { nabCategory } from '../../src/evaluate/nab-corpus.js';
import {
  type NabProfile,
  type NabSeries,
  probationLength,
  sweepPoints,
  windowIndices,
} from '../../src/evaluate/nab-score.js';

/** Loss parts of one series (raw NAB units, standard profile). */
export interface SeriesLoss {
  readonly name: string;
  readonly windows: number;
  /** Windows with a detection, and the credit they missed (1 − credit each, summed). */
  readonly found: number;
  readonly lateLoss: number;
  /** Windows without a detection (each costs tp + fn = 2 against perfect). */
  readonly missed: number;
  /** Detections outside windows and their summed cost (> 0). */
  readonly fp: number;
  readonly fpCost: number;
  /** Of the false positives: how many fall within one window width before a window (early alarms). */
  readonly fpBefore: number;
  /** Position of each first detection inside its window, 0 = first point, 1 = last. */
  readonly positions: readonly number[];
  /** Per missed window, the highest of `raw` inside it after probation (0 when none is scored). */
  readonly missedBest: readonly number[];
  /** Per missed window, the index of its first point. */
  readonly missedAt: readonly number[];
}

/**
 * Loss parts of one series under `detected` (one flag per point); `raw`: the anomaly scores before
 * repeat suppression, read for the missed windows' best score (default: the detections).
 */
export function seriesLoss(
  series: NabSeries,
  detected: readonly boolean[],
  profile: NabProfile,
  raw: readonly number[] = detected.map(Number),
): SeriesLoss {
  const points = sweepPoints(series, detected.map(Number), profile);
  const ranges = series.windows.map(([a, b]) => windowIndices(series.timestamps, a, b));
  const probation = probationLength(series.values.length);
  let found = 0;
  let lateLoss = 0;
  let missed = 0;
  const positions: number[] = [];
  const missedBest: number[] = [];
  const missedAt: number[] = [];
  for (const [left, right] of ranges) {
    if (right < probation) continue;
    const from = Math.max(left, probation);
    const first = detected.findIndex((d, i) => d && i >= from && i <= right);
    if (first < 0) {
      missed++;
      missedBest.push(Math.max(0, ...raw.slice(from, right + 1)));
      missedAt.push(left);
    } else {
      found++;
      lateLoss += profile.tpWeight - points[first]!.sweepScore;
      positions.push((first - left) / Math.max(1, right - left));
    }
  }
  let fp = 0;
  let fpCost = 0;
  let fpBefore = 0;
  points.forEach((p, i) => {
    if (p.window !== null || !detected[i]) return;
    fp++;
    fpCost -= p.sweepScore;
    if (ranges.some(([l, r]) => i < l && i >= l - (r - l + 1))) fpBefore++;
  });
  const windows = found + missed;
  return {
    name: series.name,
    windows,
    found,
    lateLoss,
    missed,
    fp,
    fpCost,
    fpBefore,
    positions,
    missedBest,
    missedAt,
  };
}

/** Sums of `SeriesLoss` over a group, in normalised points of that group. */
export interface GroupLoss {
  readonly group: string;
  readonly windows: number;
  readonly found: number;
  readonly missed: number;
  readonly fp: number;
  readonly fpBefore: number;
  /** Normalised points lost to late detections, misses and false positives; score = 100 − their sum. */
  readonly late: number;
  readonly miss: number;
  readonly fpLoss: number;
  /** Median position of the first detection in its window. */
  readonly medianPosition: number;
}

/** `GroupLoss` of each category and of the whole corpus. */
export function groupLosses(losses: readonly SeriesLoss[], profile: NabProfile): GroupLoss[] {
  const groups = [...new Set(losses.map((l) => nabCategory(l.name))), 'all'];
  return groups.map((group) => {
    const ls = losses.filter((l) => group === 'all' || nabCategory(l.name) === group);
    const sum = (f: (l: SeriesLoss) => number) => ls.reduce((s, l) => s + f(l), 0);
    const windows = sum((l) => l.windows);
    const span = (profile.tpWeight + profile.fnWeight) * windows;
    const k = span > 0 ? 100 / span : Number.NaN;
    const pos = ls.flatMap((l) => l.positions).sort((a, b) => a - b);
    return {
      group,
      windows,
      found: sum((l) => l.found),
      missed: sum((l) => l.missed),
      fp: sum((l) => l.fp),
      fpBefore: sum((l) => l.fpBefore),
      late: k * sum((l) => l.lateLoss),
      miss: k * (profile.tpWeight + profile.fnWeight) * sum((l) => l.missed),
      fpLoss: k * sum((l) => l.fpCost),
      medianPosition: pos.length === 0 ? Number.NaN : pos[Math.floor(pos.length / 2)]!,
    };
  });
}
