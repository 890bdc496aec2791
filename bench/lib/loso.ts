/**
 * Leave-one-set-out (LOSO) selection of one tabular config (bench/tabular-loso.bench.ts): every candidate
 * has one ROC-AUC per dev set; its regret on a set is that ROC-AUC minus a reference: the best online
 * peer's under the same warm-up mask when the candidate has one (`reference`), else the best candidate's
 * there. Per
 * fold (one set held out), the candidate with the best worst regret on the other sets is chosen and scored
 * on the held-out one; the final config is the candidate with the best worst regret over every set.
 */
import { InvalidOptionError } from '../../src/errors.js';

/** One candidate's ROC-AUC per set (every candidate has the same sets). */
export interface LosoScores {
  readonly name: string;
  /** Number of config knobs changed against the base config: the tie-breaker (fewer wins). */
  readonly knobs: number;
  readonly auc: Readonly<Record<string, number>>;
  /**
   * Per set, the ROC-AUC the regret is measured against (the best online peer, ranked with the same warm-up
   * mask as this candidate); when absent, the best candidate's.
   */
  readonly reference?: Readonly<Record<string, number>>;
}

/** One fold of the selection. */
export interface LosoFold {
  readonly heldOut: string;
  readonly chosen: string;
  /** The chosen candidate's worst regret on the other sets. */
  readonly trainWorst: number;
  readonly heldOutAuc: number;
  readonly heldOutRegret: number;
}

/** Per set, the best ROC-AUC of any candidate. */
export function bestPerSet(candidates: readonly LosoScores[]): Record<string, number> {
  const first = candidates[0];
  if (first === undefined) throw new InvalidOptionError('leave-one-set-out needs candidates');
  const sets = Object.keys(first.auc);
  return Object.fromEntries(sets.map((s) => [s, Math.max(...candidates.map((c) => c.auc[s] ?? Number.NaN))]));
}

/** A candidate's regret on `set`: its ROC-AUC minus its reference there (else `best`'s). */
export function regret(c: LosoScores, set: string, best: Readonly<Record<string, number>>): number {
  return (c.auc[set] ?? Number.NaN) - (c.reference?.[set] ?? best[set]!);
}

/** A candidate's worst regret over `sets`. */
export function worstRegret(
  c: LosoScores,
  sets: readonly string[],
  best: Readonly<Record<string, number>>,
): number {
  return Math.min(...sets.map((s) => regret(c, s, best)));
}

/**
 * The candidate with the best worst regret on `sets`; ties (within `tie` ROC-AUC) go to fewer knobs, then
 * to the earlier candidate.
 */
export function chooseOn(
  candidates: readonly LosoScores[],
  sets: readonly string[],
  tie = 0.0005,
): { chosen: LosoScores; worst: number } {
  const best = bestPerSet(candidates);
  let chosen = candidates[0]!;
  let worst = worstRegret(chosen, sets, best);
  for (const c of candidates.slice(1)) {
    const w = worstRegret(c, sets, best);
    if (w > worst + tie || (w > worst - tie && c.knobs < chosen.knobs)) {
      chosen = c;
      worst = w;
    }
  }
  return { chosen, worst };
}

/** Every fold: choose on the other sets, report on the held-out one. */
export function losoFolds(candidates: readonly LosoScores[]): LosoFold[] {
  const best = bestPerSet(candidates);
  const sets = Object.keys(best).sort();
  if (sets.length < 2)
    throw new InvalidOptionError(`leave-one-set-out needs at least 2 sets, got ${sets.length}`);
  return sets.map((heldOut) => {
    const { chosen, worst } = chooseOn(
      candidates,
      sets.filter((s) => s !== heldOut),
    );
    const heldOutAuc = chosen.auc[heldOut]!;
    return {
      heldOut,
      chosen: chosen.name,
      trainWorst: worst,
      heldOutAuc,
      heldOutRegret: regret(chosen, heldOut, best),
    };
  });
}
