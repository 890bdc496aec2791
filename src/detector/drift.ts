import { z } from 'zod';
import { DRIFT_POLICIES, type DriftPolicy } from '../config/enums.js';
import type { DriftEvent, DriftPhase, DriftSnapshot } from '../core/drift.js';
import type { ScoredEvent } from '../core/records.js';
import { InvalidOptionError, SerializationError } from '../errors.js';

export { DRIFT_POLICIES, type DriftPolicy } from '../config/enums.js';
export type { DriftEvent, DriftPhase, DriftSnapshot } from '../core/drift.js';

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

interface Episode {
  id: string;
  startedAt: number;
  peakScore: number;
}

const finite = z.number().refine(Number.isFinite, 'must be finite');
const stateSchema = z.strictObject({
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
export type DriftMonitorState = z.infer<typeof stateSchema>;

/** 1.4826 · MAD estimates σ for normal data. */
const MAD_TO_SIGMA = 1.4826;
/** Floor on spreads, nats: a constant log-likelihood would otherwise divide by zero. */
const MIN_SPREAD_NATS = 1e-3;

/**
 * Density drift: compares the mean log-likelihood of the last `window` scored events with a reference
 * measured over the first `referenceEvents` scored (non-warming) events.
 *
 *   score = (reference mean − window mean) / reference std
 *
 * i.e. how many per-event standard deviations the window's average log-likelihood fell (an effect size;
 * scale-free, and its expectation does not depend on `window`; ≈ 1/√window noise on stationary data).
 * Log-likelihoods are winsorised to reference median ± `clipSigmas`·σ_MAD first (reference included), so
 * a normal rate of point anomalies with log-likelihoods of −1000 does not dominate either mean.
 *
 * Timing uses event time (the largest event timestamp seen), never the wall clock, so replays are
 * deterministic. A drift is confirmed (`started` event) once the score stays ≥ `level` for `forMs`, and
 * ends (`ended`, reason `recovered`) once it stays < `recoverLevel` (default level / 2) for `forMs`:
 * either the data came back or the model adapted to it. With `afterConfirmed:
 * 'reset-reference'` the monitor also lets the model adapt for one `window` of events after confirming,
 * then measures a new reference over `referenceEvents` events (scores still use the old one meanwhile);
 * when it is in place the drift ends with reason `reference-reset` and the window refills. With `keep`
 * the reference never changes: the drift stays open until the score recovers.
 */
export class DriftMonitor {
  private readonly o: Required<DriftMonitorOptions>;
  private phase: DriftPhase = 'reference';
  private seen = 0;
  private clock = Number.NEGATIVE_INFINITY;
  private reference: DriftReference | null = null;
  private referenceValues: number[] = [];
  private readonly ring: Float64Array;
  private ringStart = 0;
  private ringCount = 0;
  private ringSum = 0;
  private aboveSince: number | null = null;
  private belowSince: number | null = null;
  private episode: Episode | null = null;
  private resetIn: number | null = null;
  private score = Number.NaN;

  constructor(options: DriftMonitorOptions) {
    this.o = validateOptions(options);
    this.ring = new Float64Array(this.o.window);
  }

  /** Feeds scored events in order; warming events and NaN log-likelihoods are ignored. */
  observe(events: readonly ScoredEvent[]): DriftEvent[] {
    const out: DriftEvent[] = [];
    for (const e of events) {
      if (e.status !== 'scored' || Number.isNaN(e.logLikelihood)) continue;
      this.step(e, out);
    }
    return out;
  }

  snapshot(): DriftSnapshot {
    const ref = this.reference;
    return {
      phase: this.phase,
      score: this.score,
      windowMean: this.ringCount === 0 ? Number.NaN : this.ringSum / this.ringCount,
      reference: ref?.mean ?? Number.NaN,
      referenceStd: ref?.std ?? Number.NaN,
      eventsSeen: this.seen,
    };
  }

  /** The reference in force, or null while the first one is measured. */
  getReference(): DriftReference | null {
    return this.reference;
  }

  private step(e: ScoredEvent, out: DriftEvent[]): void {
    const ll = Math.min(Number.MAX_VALUE, Math.max(-Number.MAX_VALUE, e.logLikelihood));
    this.clock = Math.max(this.clock, e.timestamp);
    this.seen++;
    const ref = this.reference;
    if (ref === null) {
      this.collectReference(ll);
      if (this.reference !== null) this.phase = 'watching';
      return;
    }
    this.push(Math.min(ref.ceiling, Math.max(ref.floor, ll)));
    this.score =
      this.ringCount === this.o.window ? (ref.mean - this.ringSum / this.ringCount) / ref.std : NaN;
    if (this.phase === 'drifting' && this.resetIn !== null && this.advanceReset(ll, e, out)) return;
    if (Number.isFinite(this.score)) this.track(e, out);
  }

  private track(e: ScoredEvent, out: DriftEvent[]): void {
    if (this.phase === 'watching') {
      if (this.score < this.o.level) {
        this.aboveSince = null;
        return;
      }
      this.aboveSince ??= this.clock;
      if (this.clock - this.aboveSince >= this.o.forMs) this.confirm(e, out);
      return;
    }
    const episode = this.episode!;
    episode.peakScore = Math.max(episode.peakScore, this.score);
    if (this.score >= this.o.recoverLevel) {
      this.belowSince = null;
      return;
    }
    this.belowSince ??= this.clock;
    if (this.clock - this.belowSince >= this.o.forMs) {
      out.push(this.event('ended', e, 'recovered'));
      this.endEpisode();
    }
  }

  private confirm(e: ScoredEvent, out: DriftEvent[]): void {
    const startedAt = this.aboveSince ?? this.clock;
    this.episode = { id: `drift@${startedAt}`, startedAt, peakScore: this.score };
    this.phase = 'drifting';
    this.aboveSince = null;
    this.belowSince = null;
    if (this.o.afterConfirmed === 'reset-reference') this.resetIn = this.o.window;
    out.push(this.event('started', e, null));
  }

  /** Reset policy: wait one window, then collect the new reference. True when the reference was replaced. */
  private advanceReset(ll: number, e: ScoredEvent, out: DriftEvent[]): boolean {
    if (this.resetIn! > 0) {
      this.resetIn!--;
      return false;
    }
    const previous = this.reference;
    this.collectReference(ll);
    if (this.reference === previous) return false;
    out.push(this.event('ended', e, 'reference-reset'));
    this.endEpisode();
    this.clearWindow();
    return true;
  }

  private endEpisode(): void {
    this.phase = 'watching';
    this.episode = null;
    this.belowSince = null;
    this.aboveSince = null;
    this.resetIn = null;
    this.referenceValues = [];
  }

  private event(kind: DriftEvent['kind'], e: ScoredEvent, reason: DriftEvent['reason']): DriftEvent {
    const ep = this.episode!;
    const snap = this.snapshot();
    return {
      kind,
      id: ep.id,
      timestamp: this.clock,
      startedAt: ep.startedAt,
      ref: { topic: e.ref.topic, partition: e.ref.partition, offset: e.ref.offset },
      eventIndex: this.seen,
      score: this.score,
      peakScore: ep.peakScore,
      level: this.o.level,
      windowMeanLogLikelihood: snap.windowMean,
      referenceLogLikelihood: snap.reference,
      referenceStd: snap.referenceStd,
      reason,
      durationMs: kind === 'ended' ? this.clock - ep.startedAt : null,
    };
  }

  private collectReference(ll: number): void {
    this.referenceValues.push(ll);
    if (this.referenceValues.length < this.o.referenceEvents) return;
    this.reference = measureReference(this.referenceValues, this.o.clipSigmas);
    this.referenceValues = [];
  }

  private push(v: number): void {
    const w = this.o.window;
    if (this.ringCount < w) {
      this.ring[(this.ringStart + this.ringCount) % w] = v;
      this.ringCount++;
      this.ringSum += v;
      return;
    }
    this.ringSum += v - this.ring[this.ringStart]!;
    this.ring[this.ringStart] = v;
    this.ringStart = (this.ringStart + 1) % w;
    // Re-add once per lap so rounding of the running sum never accumulates.
    if (this.ringStart === 0) this.ringSum = this.ring.reduce((a, b) => a + b, 0);
  }

  private clearWindow(): void {
    this.ringStart = 0;
    this.ringCount = 0;
    this.ringSum = 0;
    this.score = Number.NaN;
  }

  /** Window values, oldest first. */
  private windowValues(): number[] {
    const w = this.o.window;
    return Array.from({ length: this.ringCount }, (_, i) => this.ring[(this.ringStart + i) % w]!);
  }

  getState(): DriftMonitorState {
    const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);
    return {
      version: 1,
      phase: this.phase,
      seen: this.seen,
      clock: fin(this.clock),
      reference: this.reference === null ? null : { ...this.reference },
      referenceValues: [...this.referenceValues],
      window: this.windowValues(),
      aboveSince: this.aboveSince,
      belowSince: this.belowSince,
      episode: this.episode === null ? null : { ...this.episode },
      resetIn: this.resetIn,
      score: fin(this.score),
    };
  }

  /**
   * Restores `getState()` output. A state saved with a larger `window` keeps its newest values; one with
   * more reference values than `referenceEvents` keeps the first. Throws `SerializationError` when malformed.
   */
  setState(state: unknown): void {
    const parsed = stateSchema.safeParse(state);
    if (!parsed.success) {
      throw new SerializationError(`invalid drift monitor state: ${z.prettifyError(parsed.error)}`);
    }
    const s = parsed.data;
    if (
      (s.phase === 'reference') !== (s.reference === null) ||
      (s.phase === 'drifting') !== (s.episode !== null)
    ) {
      throw new SerializationError(
        `inconsistent drift monitor state: phase ${s.phase} with reference/episode`,
      );
    }
    this.phase = s.phase;
    this.seen = s.seen;
    this.clock = s.clock ?? Number.NEGATIVE_INFINITY;
    this.reference = s.reference;
    this.referenceValues = s.referenceValues.slice(0, this.o.referenceEvents - 1);
    this.clearWindow();
    for (const v of s.window.slice(-this.o.window)) this.push(v);
    this.aboveSince = s.aboveSince;
    this.belowSince = s.belowSince;
    this.episode = s.episode;
    this.resetIn = s.resetIn;
    this.score = s.score ?? Number.NaN;
  }
}

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

function validateOptions(o: DriftMonitorOptions): Required<DriftMonitorOptions> {
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
