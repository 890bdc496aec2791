import { z } from 'zod';
import { SUPPRESSION_MODES, type SuppressionMode } from '../config/enums.js';
import type { ScoredEvent } from '../core/records.js';
import { InvalidOptionError, SerializationError } from '../errors.js';

export { SUPPRESSION_MODES, type SuppressionMode } from '../config/enums.js';

/** Options of `AlertSuppressor`. */
export interface AlertSuppressorOptions {
  readonly mode: SuppressionMode;
  /** Episode mode: an episode ends after this much event time without an anomaly from its key, ms. */
  readonly quietMs: number;
  /** Interval mode: least event time between two alerts of one key, ms. */
  readonly minIntervalMs: number;
  /** Most keys tracked at once (memory bound); see `AlertSuppressor`. */
  readonly maxKeys: number;
}

/** Episode info an anomaly carries: the episode id, anomalies in it so far (this one included), suppressed so far. */
export interface AlertEpisode {
  readonly id: string;
  readonly count: number;
  readonly suppressed: number;
}

/** Outcome of one batch. */
export interface SuppressionResult {
  /** Every input in order; anomalies carry `episode`. */
  readonly results: readonly ScoredEvent[];
  /** The anomalies to alert on (first of their episode or interval). */
  readonly alerts: readonly ScoredEvent[];
  /** Anomalies of this batch that were not alerted. */
  readonly suppressed: number;
}

/** Running totals since construction (or `setState`). */
export interface SuppressionStats {
  readonly alerts: number;
  readonly suppressed: number;
  /** Keys forgotten because their episode or interval was over. */
  readonly expired: number;
  /** Keys forgotten early because `maxKeys` was reached while their episode was still open. */
  readonly evicted: number;
  /** Keys tracked now. */
  readonly keys: number;
}

interface KeyEpisode {
  id: string;
  /** Event time of the last anomaly (episode mode) or of the last alert (interval mode), ms. */
  anchor: number;
  count: number;
  suppressed: number;
}

const finite = z.number().refine(Number.isFinite, 'must be finite');
const episodeSchema = z.strictObject({
  id: z.string(),
  anchor: finite,
  count: z.int().min(1),
  suppressed: z.int().min(0),
});
const stateSchema = z.strictObject({
  version: z.literal(1),
  clock: finite.nullable(),
  /** Least recently active first. */
  keys: z.array(z.tuple([z.string().nullable(), episodeSchema])),
  totals: z.strictObject({
    alerts: z.int().min(0),
    suppressed: z.int().min(0),
    expired: z.int().min(0),
    evicted: z.int().min(0),
  }),
});

/** Serialisable suppressor state (`getState` / `setState`), JSON-safe. */
export type AlertSuppressorState = z.infer<typeof stateSchema>;

/**
 * Per-key alert suppression on event time (deterministic on replays). In `episode` mode the first
 * anomaly of a key opens an episode and is alerted; later anomalies of that key are suppressed while
 * each follows the previous one by less than `quietMs`; a gap of `quietMs` or more starts a new episode.
 * In `interval` mode a key alerts at most once per `minIntervalMs`; the anomalies after an alert, up to
 * the next one, form its episode. Every anomaly carries `episode` {id, count so far, suppressed so far};
 * the id is `<key>@<event time of the alert>` (key `-` for events without one).
 *
 * Memory: keys are kept in least-recently-active order. After each batch, keys whose episode is over
 * (relative to the largest event time seen) are dropped from the old end; if more than `maxKeys` remain,
 * the least recently active are dropped even though their episode is open (counted in `evicted`: their
 * next anomaly alerts again).
 */
export class AlertSuppressor {
  private readonly o: AlertSuppressorOptions;
  private readonly keys = new Map<string | null, KeyEpisode>();
  private clock = Number.NEGATIVE_INFINITY;
  private totals = { alerts: 0, suppressed: 0, expired: 0, evicted: 0 };

  constructor(options: AlertSuppressorOptions) {
    this.o = validateOptions(options);
  }

  /** Annotates the anomalies of a batch (in order) and picks those to alert on. */
  apply(events: readonly ScoredEvent[]): SuppressionResult {
    const alerts: ScoredEvent[] = [];
    let suppressed = 0;
    const results = events.map((e) => {
      if (Number.isFinite(e.timestamp)) this.clock = Math.max(this.clock, e.timestamp);
      if (!e.isAnomaly) return e;
      const { episode, alert } = this.next(e);
      const annotated: ScoredEvent = {
        ...e,
        episode: { id: episode.id, count: episode.count, suppressed: episode.suppressed },
      };
      if (alert) alerts.push(annotated);
      else suppressed++;
      return annotated;
    });
    this.totals.alerts += alerts.length;
    this.totals.suppressed += suppressed;
    this.sweep();
    return { results, alerts, suppressed };
  }

  stats(): SuppressionStats {
    return { ...this.totals, keys: this.keys.size };
  }

  private next(e: ScoredEvent): { episode: KeyEpisode; alert: boolean } {
    const t = e.timestamp;
    const current = this.keys.get(e.key);
    this.keys.delete(e.key);
    const gap = this.o.mode === 'episode' ? this.o.quietMs : this.o.minIntervalMs;
    // Out-of-order timestamps (t before the anchor) give a negative gap: same episode.
    if (current !== undefined && t - current.anchor < gap) {
      current.count++;
      current.suppressed++;
      if (this.o.mode === 'episode') current.anchor = Math.max(current.anchor, t);
      this.keys.set(e.key, current);
      return { episode: current, alert: false };
    }
    const fresh: KeyEpisode = { id: `${e.key ?? '-'}@${t}`, anchor: t, count: 1, suppressed: 0 };
    this.keys.set(e.key, fresh);
    return { episode: fresh, alert: true };
  }

  /** Drops finished episodes from the least recently active end, then enforces `maxKeys`. */
  private sweep(): void {
    const gap = this.o.mode === 'episode' ? this.o.quietMs : this.o.minIntervalMs;
    for (const [key, ep] of this.keys) {
      if (this.clock - ep.anchor < gap) break;
      this.keys.delete(key);
      this.totals.expired++;
    }
    for (const key of this.keys.keys()) {
      if (this.keys.size <= this.o.maxKeys) break;
      this.keys.delete(key);
      this.totals.evicted++;
    }
  }

  getState(): AlertSuppressorState {
    return {
      version: 1,
      clock: Number.isFinite(this.clock) ? this.clock : null,
      keys: [...this.keys].map(([k, ep]) => [k, { ...ep }]),
      totals: { ...this.totals },
    };
  }

  /** Restores `getState()` output (keeping the most recent `maxKeys` keys); `SerializationError` when malformed. */
  setState(state: unknown): void {
    const parsed = stateSchema.safeParse(state);
    if (!parsed.success) {
      throw new SerializationError(`invalid alert suppressor state: ${z.prettifyError(parsed.error)}`);
    }
    const s = parsed.data;
    this.clock = s.clock ?? Number.NEGATIVE_INFINITY;
    this.keys.clear();
    for (const [k, ep] of s.keys.slice(-this.o.maxKeys)) this.keys.set(k, { ...ep });
    this.totals = { ...s.totals };
  }
}

function validateOptions(o: AlertSuppressorOptions): AlertSuppressorOptions {
  const fail = (message: string): never => {
    throw new InvalidOptionError(`AlertSuppressor: ${message}`, { context: { ...o } });
  };
  if (!SUPPRESSION_MODES.includes(o.mode)) {
    fail(`mode must be one of ${SUPPRESSION_MODES.join(', ')}, got ${String(o.mode)}`);
  }
  if (!(o.quietMs >= 0 && Number.isFinite(o.quietMs)))
    fail(`quietMs must be a finite number >= 0, got ${o.quietMs}`);
  if (!(o.minIntervalMs >= 0 && Number.isFinite(o.minIntervalMs))) {
    fail(`minIntervalMs must be a finite number >= 0, got ${o.minIntervalMs}`);
  }
  if (!Number.isSafeInteger(o.maxKeys) || o.maxKeys < 1)
    fail(`maxKeys must be an integer >= 1, got ${o.maxKeys}`);
  return o;
}
