import { z } from 'zod';
import type { DriftEvent, DriftPhase, DriftSnapshot } from '../core/drift.js';
import type { ScoredEvent } from '../core/records.js';
import { SerializationError } from '../errors.js';
import {
  type DriftMonitorOptions,
  type DriftMonitorState,
  type DriftReference,
  driftStateSchema,
  measureReference,
  validateDriftOptions,
} from './drift-reference.js';

export { DRIFT_POLICIES, type DriftPolicy } from '../config/enums.js';
export type { DriftEvent, DriftPhase, DriftSnapshot } from '../core/drift.js';
export {
  type DriftMonitorOptions,
  type DriftMonitorState,
  type DriftReference,
  measureReference,
  serializeDriftEvent,
} from './drift-reference.js';

interface Episode {
  id: string;
  startedAt: number;
  peakScore: number;
}

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
    this.o = validateDriftOptions(options);
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
    const parsed = driftStateSchema.safeParse(state);
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
