import { createRng } from '../../../src/core/rng.js';
import { decideThenUpdate } from '../../../src/detector/thresholds/factory.js';
import type { ThresholdPolicy } from '../../../src/detector/thresholds/types.js';

/** Log-likelihood of event t (nats) given a standard normal draw z and a uniform u, seeded per stream. */
export type ScoreModel = (t: number, z: number, u: number) => number;

/** Seeded stream of `n` log-likelihoods from `model`. */
export function scoreStream(seed: number, n: number, model: ScoreModel): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, t) => model(t, rng.normal(), rng.uniform()));
}

/** Realised alert rate of a prequential run: overall and per block of `block` ready events. */
export interface RealisedRate {
  readonly overall: number;
  readonly blocks: number[];
  readonly ready: number;
  /** Per ready event, in order: whether it alerted. */
  readonly flags: readonly boolean[];
}

/** Most alerts among any `span` consecutive events of `flags` (a sliding window). */
export function maxAlertsInSpan(flags: readonly boolean[], span: number): number {
  let inSpan = 0;
  let most = 0;
  for (let i = 0; i < flags.length; i++) {
    if (flags[i]) inSpan++;
    if (i >= span && flags[i - span]) inSpan--;
    most = Math.max(most, inSpan);
  }
  return most;
}

/** Runs `values` through `policy` prequentially in batches (decide, then update with the verdicts). */
export function runPolicy(
  policy: ThresholdPolicy,
  values: readonly number[],
  batch = 64,
  block = 2500,
): RealisedRate {
  const flags: boolean[] = [];
  for (let i = 0; i < values.length; i += batch) {
    const d = decideThenUpdate(policy, values.slice(i, i + batch));
    if (d.ready) flags.push(...d.isAnomaly);
  }
  const blocks: number[] = [];
  for (let i = 0; i + block <= flags.length; i += block) {
    blocks.push(flags.slice(i, i + block).filter(Boolean).length / block);
  }
  const alerts = flags.filter(Boolean).length;
  return {
    overall: flags.length > 0 ? alerts / flags.length : Number.NaN,
    blocks,
    ready: flags.length,
    flags,
  };
}
