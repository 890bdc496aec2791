/**
 * Leave-one-category-out (LOCO) selection for NAB configs: every candidate (a model variant, a score
 * post-processing and a fixed threshold) is summarised once per category; then, for each category held
 * out, the candidate with the best worst-case score on the other categories is chosen and scored on the
 * held-out one, at its fixed threshold and (for reference) at the threshold optimised on that category.
 * The final config is the candidate whose worst held-out category is best. See docs/evaluation.md,
 * "NAB protocol".
 */
import { InvalidOptionError } from '../errors.js';
import { nabCategory } from './nab-corpus.js';
import {
  bestThreshold,
  type NabProfile,
  type NabSeries,
  normalise,
  nullDetector,
  type SweepPoint,
  scoreAtThreshold,
  scoreDetections,
  sweepPoints,
} from './nab-score.js';

/** One fold: the held-out category and the categories chosen on. */
export interface LocoFold {
  readonly heldOut: string;
  readonly train: readonly string[];
}

/** The folds of leave-one-category-out over `categories` (distinct, sorted; at least two). */
export function locoFolds(categories: readonly string[]): LocoFold[] {
  const sorted = [...new Set(categories)].sort();
  if (sorted.length < 2) {
    throw new InvalidOptionError(`leave-one-category-out needs at least 2 categories, got ${sorted.length}`);
  }
  return sorted.map((heldOut) => ({ heldOut, train: sorted.filter((c) => c !== heldOut) }));
}

/** Raw parts of a group's fixed-threshold score, and its own optimised score. */
export interface CategorySummary {
  readonly raw: number;
  readonly nullScore: number;
  readonly perfect: number;
  /** Detections outside windows at the fixed threshold. */
  readonly fp: number;
  /** Normalised score at the fixed threshold (NaN without windows). */
  readonly fixed: number;
  /** Normalised score at the threshold optimised on this group alone, and that threshold. */
  readonly optimised: number;
  readonly threshold: number;
}

/** A candidate config: its name and, per series (corpus order), NAB anomaly scores and detections. */
export interface LocoCandidate {
  readonly name: string;
  readonly scores: readonly (readonly number[])[];
  readonly detections: readonly (readonly boolean[])[];
}

/** Per-category and total summaries of one candidate. */
export interface CandidateSummary {
  readonly name: string;
  readonly categories: Readonly<Record<string, CategorySummary>>;
  readonly total: CategorySummary;
}

interface SeriesPart {
  readonly category: string;
  readonly points: SweepPoint[];
  readonly raw: number;
  readonly fp: number;
  readonly nullScore: number;
  readonly perfect: number;
}

function summarise(
  parts: readonly SeriesPart[],
  profile: NabProfile,
  same: CategorySummary | undefined,
): CategorySummary {
  const raw = parts.reduce((s, p) => s + p.raw, 0);
  const nullScore = parts.reduce((s, p) => s + p.nullScore, 0);
  const perfect = parts.reduce((s, p) => s + p.perfect, 0);
  const fixed = normalise({ raw, tp: 0, fp: 0, fn: 0 }, nullScore, perfect).normalised;
  const fp = parts.reduce((s, p) => s + p.fp, 0);
  if (same !== undefined)
    return { raw, nullScore, perfect, fp, fixed, optimised: same.optimised, threshold: same.threshold };
  const points = parts.flatMap((p) => p.points);
  const best = bestThreshold(points, profile);
  const opt = scoreAtThreshold(points, profile, best.threshold);
  const optimised = normalise(opt, nullScore, perfect).normalised;
  return { raw, nullScore, perfect, fp, fixed, optimised, threshold: best.threshold };
}

/**
 * Summarises a candidate per category of `corpus` (`<category>/<name>` series names) and in total.
 * `sameScores`: the summary of a candidate with the same anomaly scores (only the detections differ), whose
 * optimised scores are reused instead of sweeping again.
 */
export function summariseCandidate(
  corpus: readonly NabSeries[],
  candidate: LocoCandidate,
  profile: NabProfile,
  sameScores?: CandidateSummary,
): CandidateSummary {
  const nul = nullDetector(corpus, profile);
  const parts = corpus.map((s, i): SeriesPart => {
    const points = sweepPoints(s, candidate.scores[i]!, profile);
    const r = scoreDetections(points, (_, k) => candidate.detections[i]![k] === true, profile);
    return {
      category: nabCategory(s.name),
      points,
      raw: r.raw,
      fp: r.fp,
      nullScore: scoreAtThreshold(nul.points[i]!, profile, nul.threshold).raw,
      perfect: profile.tpWeight * s.windows.length,
    };
  });
  const names = [...new Set(parts.map((p) => p.category))].sort();
  const categories = Object.fromEntries(
    names.map((c) => [
      c,
      summarise(
        parts.filter((p) => p.category === c),
        profile,
        sameScores?.categories[c],
      ),
    ]),
  );
  return { name: candidate.name, categories, total: summarise(parts, profile, sameScores?.total) };
}

/**
 * Selection objective on a set of categories: the worst fixed-threshold score among them, where the
 * categories pooled (so a category without windows still counts through its false positives) is one
 * more entry. Higher is better.
 */
export function worstCase(summary: CandidateSummary, categories: readonly string[]): number {
  const parts = categories.map((c) => summary.categories[c]!);
  const pooled = normalise(
    { raw: parts.reduce((s, p) => s + p.raw, 0), tp: 0, fp: 0, fn: 0 },
    parts.reduce((s, p) => s + p.nullScore, 0),
    parts.reduce((s, p) => s + p.perfect, 0),
  ).normalised;
  const scores = [...parts.map((p) => p.fixed), pooled].filter(Number.isFinite);
  return scores.length === 0 ? Number.NEGATIVE_INFINITY : Math.min(...scores);
}

/**
 * Largest loss of the fixed threshold against the threshold optimised per category, over `categories`
 * with windows (points): how far the configured threshold fails to travel.
 */
export function thresholdGap(summary: CandidateSummary, categories: readonly string[]): number {
  const gaps = categories
    .map((c) => summary.categories[c]!)
    .filter((c) => Number.isFinite(c.fixed))
    .map((c) => c.optimised - c.fixed);
  return gaps.length === 0 ? 0 : Math.max(...gaps);
}

/**
 * The candidate with the best `worstCase` on `categories` among those whose `thresholdGap` there is at
 * most `maxGap` (all candidates when none is); the first in order on ties.
 */
export function bestOn(
  summaries: readonly CandidateSummary[],
  categories: readonly string[],
  maxGap = Number.POSITIVE_INFINITY,
): { best: CandidateSummary; score: number } {
  if (summaries.length === 0) throw new InvalidOptionError('leave-one-category-out needs candidates');
  const eligible = summaries.filter((s) => thresholdGap(s, categories) <= maxGap);
  let best = (eligible.length > 0 ? eligible : summaries)[0]!;
  let score = Number.NEGATIVE_INFINITY;
  for (const s of eligible.length > 0 ? eligible : summaries) {
    const v = worstCase(s, categories);
    if (v > score) {
      best = s;
      score = v;
    }
  }
  return { best, score };
}

/** Outcome of one fold. */
export interface LocoFoldResult extends LocoFold {
  /** The candidate chosen on `train`, its objective there, and its summary on the held-out category. */
  readonly chosen: string;
  readonly trainScore: number;
  readonly heldOutScore: CategorySummary;
}

/**
 * Runs the folds: per fold, `bestOn` the training categories (fixed threshold travelling within `maxGap`
 * there) and that candidate's held-out summary.
 */
export function runLoco(
  summaries: readonly CandidateSummary[],
  folds: readonly LocoFold[],
  maxGap = Number.POSITIVE_INFINITY,
): LocoFoldResult[] {
  return folds.map((fold) => {
    const { best, score } = bestOn(summaries, fold.train, maxGap);
    return { ...fold, chosen: best.name, trainScore: score, heldOutScore: best.categories[fold.heldOut]! };
  });
}

/**
 * The final single config: `bestOn` every category, i.e. the candidate whose worst category (fixed
 * threshold) is best, among those whose fixed threshold travels within `maxGap` of each category's own
 * optimum.
 */
export function chooseFinal(
  summaries: readonly CandidateSummary[],
  maxGap = Number.POSITIVE_INFINITY,
): CandidateSummary {
  return bestOn(summaries, Object.keys(summaries[0]?.categories ?? {}), maxGap).best;
}
