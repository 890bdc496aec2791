/**
 * NAB scores of a scored corpus per series, per category and in total, for every profile, twice: with
 * the detections of the configured threshold (fixed) and with one anomaly-score threshold optimised over
 * the corpus (NAB's scoreboard protocol).
 */
import { nabCategory } from './nab-corpus.js';
import {
  bestThreshold,
  NAB_PROFILE_NAMES,
  NAB_PROFILES,
  type NabProfile,
  type NabProfileName,
  type NabScore,
  type NabSeries,
  normalise,
  nullDetector,
  type RawScore,
  scoreAtThreshold,
  scoreDetections,
  sweepPoints,
} from './nab-score.js';

/** NAB scores of one threshold choice. */
export interface NabGroupScores {
  readonly total: NabScore;
  readonly categories: Readonly<Record<string, NabScore>>;
  readonly series: Readonly<Record<string, NabScore>>;
}

/** Fixed and optimised scores of one profile. */
export interface NabProfileScores {
  /** Detections = the points flagged at the configured threshold. */
  readonly fixed: NabGroupScores;
  /** Detections = points whose anomaly score is ≥ `threshold`, the best threshold over the corpus. */
  readonly optimised: NabGroupScores & { readonly threshold: number };
}

/** Scores of every profile. */
export type NabScoring = Readonly<Record<NabProfileName, NabProfileScores>>;

interface Part {
  readonly raw: RawScore;
  readonly nullScore: number;
  readonly perfect: number;
}

function sum(parts: readonly Part[]): NabScore {
  const raw: RawScore = {
    raw: parts.reduce((s, p) => s + p.raw.raw, 0),
    tp: parts.reduce((s, p) => s + p.raw.tp, 0),
    fp: parts.reduce((s, p) => s + p.raw.fp, 0),
    fn: parts.reduce((s, p) => s + p.raw.fn, 0),
  };
  return normalise(
    raw,
    parts.reduce((s, p) => s + p.nullScore, 0),
    parts.reduce((s, p) => s + p.perfect, 0),
  );
}

function group(corpus: readonly NabSeries[], parts: readonly Part[]): NabGroupScores {
  const series: Record<string, NabScore> = {};
  const byCategory = new Map<string, Part[]>();
  corpus.forEach((s, i) => {
    series[s.name] = sum([parts[i]!]);
    const c = nabCategory(s.name);
    byCategory.set(c, [...(byCategory.get(c) ?? []), parts[i]!]);
  });
  const categories = Object.fromEntries([...byCategory].map(([c, ps]) => [c, sum(ps)]));
  return { total: sum(parts), categories, series };
}

/** Fixed and optimised scores of one profile. */
export function scoreProfile(
  corpus: readonly NabSeries[],
  scores: readonly (readonly number[])[],
  detections: readonly (readonly boolean[])[],
  profile: NabProfile,
): NabProfileScores {
  const points = corpus.map((s, i) => sweepPoints(s, scores[i]!, profile));
  const nul = nullDetector(corpus, profile);
  const base = corpus.map((s, i) => ({
    nullScore: scoreAtThreshold(nul.points[i]!, profile, nul.threshold).raw,
    perfect: profile.tpWeight * s.windows.length,
  }));
  const { threshold } = bestThreshold(points.flat(), profile);
  const optimised = points.map((p, i) => ({ ...base[i]!, raw: scoreAtThreshold(p, profile, threshold) }));
  const fixed = points.map((p, i) => ({
    ...base[i]!,
    raw: scoreDetections(p, (_, k) => detections[i]![k] === true, profile),
  }));
  return { fixed: group(corpus, fixed), optimised: { ...group(corpus, optimised), threshold } };
}

/** Scores of every NAB profile. */
export function scoreNabCorpus(
  corpus: readonly NabSeries[],
  scores: readonly (readonly number[])[],
  detections: readonly (readonly boolean[])[],
): NabScoring {
  return Object.fromEntries(
    NAB_PROFILE_NAMES.map((p) => [p, scoreProfile(corpus, scores, detections, NAB_PROFILES[p])]),
  ) as unknown as NabScoring;
}
