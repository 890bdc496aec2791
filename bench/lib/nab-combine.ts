/**
 * Combined candidates of the NAB protocol: two models' surprise streams (cached by nab-streams.ts), each
 * turned into a p-value among its own recent surprises (or the joint flow detector's own p-value,
 * `jointdet`), combined per point (`CombinedScorer`), then the same range breakout, repeat suppression
 * and fixed thresholds as the single-model candidates.
 */

import { newMaxOnly } from '../../src/evaluate/nab-anomaly-score.js';
import {
  type CandidateSummary,
  type LocoCandidate,
  summariseCandidate,
} from '../../src/evaluate/nab-loco.js';
import type { NabProfile, NabSeries } from '../../src/evaluate/nab-score.js';
import { COMBINE_RULES, CombinedScorer, type CombineRule, type EvidenceKind } from './combine-score.js';

/** Model pairs whose evidence is combined (names of `MODEL_GRID`, or `jointdet`: see `Evidence`). */
export const COMBINE_PAIRS: readonly (readonly [string, string])[] = [
  ['base', 'joint'],
  ['base', 'joint/avg5'],
  ['base', 'jointdet'],
  ['base', 'daily'],
  ['daily', 'joint'],
  ['daily', 'joint/avg5'],
  ['daily', 'jointdet'],
];

/**
 * One model's per-point evidence over a corpus: its surprise streams, or p-value streams (`jointdet`:
 * 1 − the joint flow detector's own p-value score, NaN while warming).
 */
export interface Evidence {
  readonly kind: EvidenceKind;
  readonly streams: readonly (readonly number[])[];
}

/** An evidence name: a model, optionally `/avgN` (the p-value of the mean of its last N surprises). */
export function parseEvidence(name: string): { model: string; average: number } {
  const m = /^(.*)\/avg(\d+)$/.exec(name);
  return m === null ? { model: name, average: 1 } : { model: m[1]!, average: Number(m[2]) };
}

/** The model whose streams an evidence name needs (`jointdet` is the joint flow's). */
export const evidenceModel = (name: string): string => {
  const { model } = parseEvidence(name);
  return model === 'jointdet' ? 'joint' : model;
};

/** `jointdet` evidence from the joint flow detector's p-value scores (0 while warming). */
export function detectorEvidence(pvalue: readonly (readonly number[])[]): Evidence {
  return { kind: 'pvalue', streams: pvalue.map((a) => a.map((s) => (s > 0 ? 1 - s : Number.NaN))) };
}

/** Range-breakout tolerances of the combined candidates (negative = off). */
const RANGE_TOLERANCES = [-1, 0, 0.02];
/**
 * Fixed thresholds on 1 − the combined p-value. A p-value among 2000 recent surprises is at least
 * 1/2001, so 'sidak' reaches 0.999 only when one model's surprise is the largest of its recent ones;
 * 0.9985 lets the second largest count too.
 */
const THRESHOLDS = [0.998, 0.9985, 0.999, 0.9995, 0.9998, 0.9999];

/** Name of a pair's candidates, e.g. `base+joint`. */
export const pairName = (pair: readonly [string, string]): string => `${pair[0]}+${pair[1]}`;

/** NAB anomaly scores of one series from two surprise streams, repeats within `dedupe` set to 0. */
export function combinedScores(
  series: NabSeries,
  a: readonly number[],
  b: readonly number[],
  kinds: readonly [EvidenceKind, EvidenceKind],
  averages: readonly [number, number],
  rule: CombineRule,
  rangeTolerance: number,
  dedupe: number,
): number[] {
  const scorer = new CombinedScorer({
    rule,
    kinds,
    averages,
    window: 2000,
    minHistory: 100,
    rangeTolerance,
  });
  return newMaxOnly(
    series.values.map((v, i) => scorer.next(v, a[i]!, b[i]!)),
    dedupe,
  );
}

/** Summaries of every combined candidate of `pair`, given each model's evidence by name. */
export function combinedCandidates(
  corpus: readonly NabSeries[],
  pair: readonly [string, string],
  evidence: ReadonlyMap<string, Evidence>,
  profile: NabProfile,
  dedupe: number,
): CandidateSummary[] {
  const [pa, pb] = [parseEvidence(pair[0]), parseEvidence(pair[1])];
  const averages = [pa.average, pb.average] as const;
  const ea = evidence.get(pa.model)!;
  const eb = evidence.get(pb.model)!;
  const kinds = [ea.kind, eb.kind] as const;
  const [a, b] = [ea.streams, eb.streams];
  const out: CandidateSummary[] = [];
  for (const rule of COMBINE_RULES) {
    for (const tol of RANGE_TOLERANCES) {
      const scores = corpus.map((s, i) =>
        combinedScores(s, a[i]!, b[i]!, kinds, averages, rule, tol, dedupe),
      );
      let first: CandidateSummary | undefined;
      for (const threshold of THRESHOLDS) {
        const candidate: LocoCandidate = {
          name: `${pairName(pair)} ${rule}${tol < 0 ? '' : `+range${tol}`} @${threshold}`,
          scores,
          detections: scores.map((x) => x.map((v) => v > 0 && v >= threshold)),
        };
        const summary = summariseCandidate(corpus, candidate, profile, first);
        first ??= summary;
        out.push(summary);
      }
    }
  }
  return out;
}
