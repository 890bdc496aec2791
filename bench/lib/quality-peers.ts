/**
 * The peers of bench:quality: what the Python scripts write, and their ROC-AUC / PR-AUC under the two
 * protocols, computed with the same TypeScript functions as flowsentinel's.
 */
import { InvalidOptionError } from '../../src/errors.js';
import { averagePrecision, rocAuc } from '../../src/evaluate/metrics.js';

/** Every peer, in table order. */
export const PEERS = ['hst', 'gaussian', 'mahalanobis', 'realnvp', 'iforest'] as const;
export type Peer = (typeof PEERS)[number];

/** Column label of each peer and whether it is online (scores a row before learning it). */
export const PEER_INFO: Record<Peer, { readonly label: string; readonly online: boolean }> = {
  hst: { label: 'River HST', online: true },
  gaussian: { label: 'River Gaussian', online: true },
  mahalanobis: { label: 'Mahalanobis', online: true },
  realnvp: { label: 'RealNVP (torch)', online: true },
  iforest: { label: 'IForest (batch)', online: false },
};

/** The peers scored once per seed (the first seed's scores are the headline). */
export const SEEDED_PEERS = ['realnvp', 'iforest'] as const satisfies readonly Peer[];

/** What river_peers.py writes (`quality`). */
export interface RiverScores {
  readonly tabular: Record<string, { rows: number; hst: number[]; gaussian: number[] }>;
  readonly nab: Record<string, { hst: number[]; gaussian: number[] }>;
}

/** What quality_peers.py writes: one score list per seed for the seeded peers. */
export interface PythonPeerScores {
  readonly versions: Record<string, string>;
  readonly tabular: Record<
    string,
    { rows: number; seeds: number[]; mahalanobis: number[]; realnvp: number[][]; iforest: number[][] }
  >;
}

/** ROC-AUC and PR-AUC of one ranking. */
export interface Auc {
  readonly rocAuc: number;
  readonly prAuc: number;
}

/** A peer on one set: with flowsentinel's warm-up mask (primary) and on its own scores of every row. */
export interface PeerResult {
  /** The first `warmup` rows ranked lowest, as flowsentinel's warming rows. */
  readonly masked: Auc;
  /** Every row ranked by the peer's own score. */
  readonly unmasked: Auc;
  /** Seeded peers: masked ROC-AUC per seed (the first is `masked.rocAuc`). */
  readonly seedRocAuc?: readonly number[];
}

/** Scores with the first `warmup` rows ranked lowest (−∞), as flowsentinel ranks its warming rows. */
export function maskWarmup(scores: readonly number[], warmup: number): number[] {
  return scores.map((s, i) => (i < warmup ? Number.NEGATIVE_INFINITY : s));
}

function auc(scores: readonly number[], labels: readonly boolean[]): Auc {
  return { rocAuc: rocAuc(scores, labels), prAuc: averagePrecision(scores, labels) };
}

function checked(scores: readonly number[] | undefined, labels: readonly boolean[], what: string): number[] {
  if (scores === undefined || scores.length !== labels.length) {
    throw new InvalidOptionError(
      `${what}: expected ${labels.length} scores, got ${scores?.length ?? 'none'}; re-run the peers`,
    );
  }
  return [...scores];
}

function peerResult(runs: readonly (readonly number[])[], labels: readonly boolean[], warmup: number) {
  const [first, ...rest] = runs;
  if (first === undefined) throw new InvalidOptionError('a seeded peer wrote no runs');
  const result: PeerResult = {
    masked: auc(maskWarmup(first, warmup), labels),
    unmasked: auc(first, labels),
    ...(rest.length > 0 ? { seedRocAuc: runs.map((r) => rocAuc(maskWarmup(r, warmup), labels)) } : {}),
  };
  return result;
}

/** Every peer's result on `file`, whose first `warmup` rows flowsentinel did not score. */
export function peerResults(
  river: RiverScores,
  python: PythonPeerScores,
  file: string,
  labels: readonly boolean[],
  warmup: number,
): Record<Peer, PeerResult> {
  const r = river.tabular[file];
  const p = python.tabular[file];
  if (r === undefined || p === undefined)
    throw new InvalidOptionError(`the peers wrote no scores for ${file}`);
  const one = (s: readonly number[] | undefined, what: string) =>
    peerResult([checked(s, labels, `${what} on ${file}`)], labels, warmup);
  const seeded = (runs: readonly number[][] | undefined, what: string) =>
    peerResult(
      (runs ?? []).map((s) => checked(s, labels, `${what} on ${file}`)),
      labels,
      warmup,
    );
  return {
    hst: one(r.hst, 'hst'),
    gaussian: one(r.gaussian, 'gaussian'),
    mahalanobis: one(p.mahalanobis, 'mahalanobis'),
    realnvp: seeded(p.realnvp, 'realnvp'),
    iforest: seeded(p.iforest, 'iforest'),
  };
}
