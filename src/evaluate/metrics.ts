/**
 * Detection metrics over labelled scores: rank-based ROC-AUC, average precision (PR-AUC), precision/recall/F1
 * of binary decisions, the curves behind them, and detection delays per labelled anomaly run.
 * Scores: higher = more anomalous; labels: true = anomaly.
 */
import { InvalidOptionError } from '../errors.js';

function checkLengths(scores: readonly number[], labels: readonly boolean[]): void {
  if (scores.length !== labels.length) {
    throw new InvalidOptionError(
      `scores (${scores.length}) and labels (${labels.length}) must have one entry per event`,
    );
  }
  if (scores.some((s) => Number.isNaN(s))) {
    throw new InvalidOptionError(
      'scores must not be NaN; map unscored events to -Infinity (the lowest score)',
    );
  }
}

/** Indices sorted by score, highest first (stable). */
function byScoreDesc(scores: readonly number[]): number[] {
  return scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
}

/**
 * Area under the ROC curve by the Mann–Whitney statistic with average ranks, so tied scores count one half
 * (the probability that a random anomaly outscores a random normal event). NaN without both classes.
 */
export function rocAuc(scores: readonly number[], labels: readonly boolean[]): number {
  checkLengths(scores, labels);
  const order = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1; // 1-based ranks i+1 … j+1
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!]) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** A point of a ROC or PR curve at one distinct score threshold (events with score ≥ threshold flagged). */
export interface CurvePoint {
  readonly threshold: number;
  readonly tp: number;
  readonly fp: number;
  /** Recall = TPR. */
  readonly recall: number;
  readonly fpr: number;
  readonly precision: number;
}

/** Counts at every distinct threshold, highest first (tied scores enter together). */
export function thresholdCurve(scores: readonly number[], labels: readonly boolean[]): CurvePoint[] {
  checkLengths(scores, labels);
  const order = byScoreDesc(scores);
  const positives = labels.filter(Boolean).length;
  const negatives = labels.length - positives;
  const out: CurvePoint[] = [];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]!]) tp++;
    else fp++;
    const s = scores[order[i]!]!;
    if (i + 1 < order.length && scores[order[i + 1]!] === s) continue;
    out.push({
      threshold: s,
      tp,
      fp,
      recall: positives > 0 ? tp / positives : Number.NaN,
      fpr: negatives > 0 ? fp / negatives : Number.NaN,
      precision: tp / (tp + fp),
    });
  }
  return out;
}

/**
 * Average precision: Σ (Rₙ − Rₙ₋₁) · Pₙ over distinct thresholds, highest first (tied scores enter
 * together), the step-wise area under the precision–recall curve as scikit-learn computes it. Its
 * chance level is the anomaly rate. NaN without anomalies.
 */
export function averagePrecision(scores: readonly number[], labels: readonly boolean[]): number {
  const curve = thresholdCurve(scores, labels);
  if (!labels.some(Boolean)) return Number.NaN;
  let ap = 0;
  let prevRecall = 0;
  for (const p of curve) {
    ap += (p.recall - prevRecall) * p.precision;
    prevRecall = p.recall;
  }
  return ap;
}

/** Precision, recall and F1 of binary decisions (NaN where undefined: nothing flagged, no anomalies). */
export interface Classification {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** Confusion counts and precision/recall/F1 of `flagged` against `labels`. */
export function classification(flagged: readonly boolean[], labels: readonly boolean[]): Classification {
  if (flagged.length !== labels.length) {
    throw new InvalidOptionError(
      `flagged (${flagged.length}) and labels (${labels.length}) differ in length`,
    );
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < flagged.length; i++) {
    if (flagged[i] && labels[i]) tp++;
    else if (flagged[i]) fp++;
    else if (labels[i]) fn++;
  }
  const tn = flagged.length - tp - fp - fn;
  const precision = tp + fp > 0 ? tp / (tp + fp) : Number.NaN;
  const recall = tp + fn > 0 ? tp / (tp + fn) : Number.NaN;
  const f1 = tp > 0 ? (2 * precision * recall) / (precision + recall) : tp + fp + fn > 0 ? 0 : Number.NaN;
  return { tp, fp, fn, tn, precision, recall, f1 };
}

/** Detection delay of labelled anomaly runs (maximal runs of consecutive anomalous events). */
export interface TimeToFirstAlert {
  /** Labelled anomaly runs. */
  readonly runs: number;
  /** Runs with at least one flagged event inside them. */
  readonly detected: number;
  readonly missed: number;
  /** Delays of the detected runs, events from the run's first event to its first flagged one (0 = at once). */
  readonly mean: number;
  readonly median: number;
  readonly max: number;
  /** Per run, in order: start index, length (events) and delay (events), null when missed. */
  readonly perRun: readonly {
    readonly start: number;
    readonly length: number;
    readonly delay: number | null;
  }[];
}

/**
 * Time to first alert of every labelled anomaly run, in events: a run counts as detected when one of its
 * events is flagged; flags after the run ended do not count for it (they may be unrelated).
 */
export function timeToFirstAlert(flagged: readonly boolean[], labels: readonly boolean[]): TimeToFirstAlert {
  if (flagged.length !== labels.length) {
    throw new InvalidOptionError(
      `flagged (${flagged.length}) and labels (${labels.length}) differ in length`,
    );
  }
  const perRun: { start: number; length: number; delay: number | null }[] = [];
  for (let i = 0; i < labels.length; ) {
    if (!labels[i]) {
      i++;
      continue;
    }
    let end = i;
    while (end + 1 < labels.length && labels[end + 1]) end++;
    let delay: number | null = null;
    for (let k = i; k <= end; k++) {
      if (flagged[k]) {
        delay = k - i;
        break;
      }
    }
    perRun.push({ start: i, length: end - i + 1, delay });
    i = end + 1;
  }
  const delays = perRun.flatMap((r) => (r.delay === null ? [] : [r.delay])).sort((a, b) => a - b);
  const n = delays.length;
  const median =
    n === 0 ? Number.NaN : n % 2 === 1 ? delays[(n - 1) / 2]! : (delays[n / 2 - 1]! + delays[n / 2]!) / 2;
  return {
    runs: perRun.length,
    detected: n,
    missed: perRun.length - n,
    mean: n === 0 ? Number.NaN : delays.reduce((s, d) => s + d, 0) / n,
    median,
    max: n === 0 ? Number.NaN : delays[n - 1]!,
    perRun,
  };
}

/** Keeps at most `max` points of a curve, evenly spaced, always including the first and the last. */
export function thinCurve<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max || max < 2) return [...points];
  const out: T[] = [];
  const step = (points.length - 1) / (max - 1);
  for (let k = 0; k < max; k++) out.push(points[Math.round(k * step)]!);
  return out;
}
