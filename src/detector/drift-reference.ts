/** Options, state schema, reference measurement and JSON lines of the drift monitor (`drift.ts`). */
import { z } from 'zod';
import { DRIFT_POLICIES, type DriftPolicy } from '../config/enums.js';
import type { DriftEvent } from '../core/drift.js';
import { InvalidOptionError } from '../errors.js';

/** Options of `DriftMonitor`. */
export interface DriftMonitorOptions {
  /** Scored events in the sliding window whose mean log-likelihood is compared with the reference. */
  readonly window: number;
  /** Scored events right after warm-up (or after a reference reset) that form the reference. */
  readonly referenceEvents: number;
  /** Drift score at or above which the window counts as drifted, in reference standard deviations. */
  readonly level: number;
  /** Event time the score must stay at or above `level` to confirm a drift (below `recoverLevel` to end one), ms. */
  readonly forMs: number;
  readonly afterConfirmed: DriftPolicy;
  /** Score below which a confirmed drift counts as recovering (hysteresis against flapping). Default level / 2. */
  readonly recoverLevel?: number;
  /** Winsorisation half-width around the reference median, in robust (MAD) standard deviations. Default 6. */
  readonly clipSigmas?: number;
}

/** The reference level: mean and spread of winsorised log-likelihoods, and the winsorisation bounds, nats. */
export interface DriftReference {
  readonly mean: number;
  readonly std: number;
  readonly floor: number;
  readonly ceiling: number;
}

const finite = z.number().refine(Number.isFinite, 'must be finite');
export const driftStateSchema = z.strictObject({
  version: z.literal(1),
  phase: z.enum(['reference', 'watching', 'drifting']),
  seen: z.int().min(0),
  clock: finite.nullable(),
  reference: z.strictObject({ mean: finite, std: finite, floor: finite, ceiling: finite }).nullable(),
  referenceValues: z.array(finite),
  window: z.array(finite),
  aboveSince: finite.nullable(),
  belowSince: finite.nullable(),
  episode: z.strictObject({ id: z.string(), startedAt: finite, peakScore: finite }).nullable(),
  resetIn: z.int().min(0).nullable(),
  score: finite.nullable(),
});

/** Serialisable monitor state (`getState` / `setState`), JSON-safe. */
export type DriftMonitorState = z.infer<typeof driftStateSchema>;

/** 1.4826 · MAD estimates σ for normal data. */
const MAD_TO_SIGMA = 1.4826;
/** Floor on spreads, nats: a constant log-likelihood would otherwise divide by zero. */
const MIN_SPREAD_NATS = 1e-3;

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median ± clipSigmas·σ_MAD bounds, then mean and sample std of the values winsorised to them. */
export function measureReference(values: readonly number[], clipSigmas: number): DriftReference {
  const sorted = [...values].sort((a, b) => a - b);
  const m = median(sorted);
  const mad = median(sorted.map((v) => Math.abs(v - m)).sort((a, b) => a - b));
  const half = clipSigmas * Math.max(MAD_TO_SIGMA * mad, MIN_SPREAD_NATS);
  const floor = m - half;
  const ceiling = m + half;
  const clipped = values.map((v) => Math.min(ceiling, Math.max(floor, v)));
  const mean = clipped.reduce((a, b) => a + b, 0) / clipped.length;
  const variance = clipped.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, clipped.length - 1);
  return { mean, std: Math.max(Math.sqrt(variance), MIN_SPREAD_NATS), floor, ceiling };
}

export function validateDriftOptions(o: DriftMonitorOptions): Required<DriftMonitorOptions> {
  const fail = (message: string): never => {
    throw new InvalidOptionError(`DriftMonitor: ${message}`, { context: { ...o } });
  };
  if (!Number.isSafeInteger(o.window) || o.window < 1)
    fail(`window must be an integer >= 1, got ${o.window}`);
  if (!Number.isSafeInteger(o.referenceEvents) || o.referenceEvents < 2) {
    fail(`referenceEvents must be an integer >= 2 (a spread needs two values), got ${o.referenceEvents}`);
  }
  if (!(o.level > 0 && Number.isFinite(o.level))) fail(`level must be a positive number, got ${o.level}`);
  if (!(o.forMs >= 0 && Number.isFinite(o.forMs))) fail(`forMs must be a finite number >= 0, got ${o.forMs}`);
  if (!DRIFT_POLICIES.includes(o.afterConfirmed)) {
    fail(`afterConfirmed must be one of ${DRIFT_POLICIES.join(', ')}, got ${String(o.afterConfirmed)}`);
  }
  const clipSigmas = o.clipSigmas ?? 6;
  if (!(clipSigmas > 0 && Number.isFinite(clipSigmas)))
    fail(`clipSigmas must be positive, got ${clipSigmas}`);
  const recoverLevel = o.recoverLevel ?? o.level / 2;
  if (!(recoverLevel <= o.level && Number.isFinite(recoverLevel))) {
    fail(`recoverLevel must be a number <= level (${o.level}), got ${recoverLevel}`);
  }
  return { ...o, clipSigmas, recoverLevel };
}

/** One JSON line for a drift event, keys in a fixed order so replays are byte-identical. */
export function serializeDriftEvent(e: DriftEvent): string {
  return JSON.stringify({
    kind: e.kind,
    id: e.id,
    timestamp: e.timestamp,
    startedAt: e.startedAt,
    topic: e.ref.topic,
    partition: e.ref.partition,
    offset: e.ref.offset,
    eventIndex: e.eventIndex,
    score: e.score,
    peakScore: e.peakScore,
    level: e.level,
    windowMeanLogLikelihood: e.windowMeanLogLikelihood,
    referenceLogLikelihood: e.referenceLogLikelihood,
    referenceStd: e.referenceStd,
    reason: e.reason,
    durationMs: e.durationMs,
  });
}
