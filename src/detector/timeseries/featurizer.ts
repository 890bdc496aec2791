import { map, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Decoded, FeatureEvent } from '../../core/records.js';
import { InvalidOptionError, SerializationError } from '../../errors.js';
import { SeriesScorer, type SeriesScorerState, seriesScoringProblems } from '../series-scorer.js';
import { type TimeSeriesOptions, timeSeriesFeatureNames } from './options.js';

/** JSON form of the per-key histories, for checkpoints. */
export interface TimeSeriesState {
  readonly version: 1;
  readonly lags: number;
  /** Least recently seen first; each `values` oldest first, at most `lags` long. */
  readonly series: readonly {
    readonly key: string | null;
    readonly values: readonly number[];
    /** The key's scorer state, when `scoring` is on. */
    readonly scorer?: SeriesScorerState;
  }[];
  readonly evictions: number;
}

const scorerStateSchema = z.strictObject({
  range: z.strictObject({ min: z.number().nullable(), max: z.number().nullable() }),
  likelihood: z
    .strictObject({
      recent: z.array(z.number()),
      seen: z.int().nonnegative(),
      fitted: z.int().nonnegative(),
      mean: z.number(),
      variance: z.number().nonnegative(),
    })
    .optional(),
});

const stateSchema = z.strictObject({
  version: z.literal(1),
  lags: z.int().min(2),
  series: z.array(
    z.strictObject({
      key: z.string().nullable(),
      values: z.array(z.number()),
      scorer: scorerStateSchema.optional(),
    }),
  ),
  evictions: z.int().nonnegative(),
});

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** Epoch time of Monday 1969-12-29 00:00 UTC (1970-01-01 was a Thursday): phase 0 of the week. */
const MONDAY_EPOCH_MS = -3 * DAY_MS;
/**
 * Half-width of the radial jitter of each (sin, cos) pair. An exact pair lies on the unit circle, a
 * 1-D set in 2-D on which a flow's density can grow without bound; a radius in [0.85, 1.15], drawn from a
 * hash of the timestamp (deterministic, no state), gives the pair a bounded density on an annulus.
 */
export const TIME_RADIUS_JITTER = 0.15;

/** Uniform in [0, 1) from a 32-bit mix of an epoch-millisecond timestamp and a salt. */
function unitHash(t: number, salt: number): number {
  let h = (Math.trunc(t) | 0) ^ Math.imul(Math.floor(t / 4_294_967_296) | 0, 0x27d4eb2d) ^ salt;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4_294_967_296;
}

/** (r·sin, r·cos) of the phase of `t` within `period`, r jittered by `TIME_RADIUS_JITTER`. */
function cyclic(t: number, period: number, offset: number, salt: number): [number, number] {
  const phase = (((t - offset) % period) + period) % period;
  const angle = (2 * Math.PI * phase) / period;
  const r = 1 + TIME_RADIUS_JITTER * (2 * unitHash(t, salt) - 1);
  return [r * Math.sin(angle), r * Math.cos(angle)];
}

/** One key's history and, when scoring is on, its scorer. */
interface SeriesEntry {
  values: number[];
  scorer: SeriesScorer | undefined;
}

/**
 * Keeps the last `lags` values of each key's series (bounded LRU over keys) and maps each one-value event
 * to its time-series vector. The first `lags − 1` events of a key have an incomplete history: their
 * vector is back-filled with the key's oldest value and the event is marked `partial`.
 */
export class TimeSeriesFeaturizer {
  readonly options: TimeSeriesOptions;
  /** Generated feature names, in vector order. */
  readonly names: readonly string[];
  private series = new Map<string | null, SeriesEntry>();
  private evicted = 0;

  constructor(options: TimeSeriesOptions) {
    const { field, lags, maxKeys } = options;
    if (typeof field !== 'string' || field.length === 0) {
      throw new InvalidOptionError('field must name the input feature, e.g. "value"');
    }
    if (!Number.isInteger(lags) || lags < 2) {
      throw new InvalidOptionError(`lags must be an integer >= 2 (current value plus history), got ${lags}`);
    }
    if (!Number.isInteger(maxKeys) || maxKeys < 1) {
      throw new InvalidOptionError(`maxKeys must be an integer >= 1, got ${maxKeys}`);
    }
    const problems = options.scoring?.enabled === true ? seriesScoringProblems(options.scoring) : [];
    if (problems.length > 0) throw new InvalidOptionError(`timeseries.scoring: ${problems.join('; ')}`);
    this.options = { ...options };
    this.names = Object.freeze(timeSeriesFeatureNames(options));
  }

  /** Length of the generated vectors (the model's dim). */
  get dim(): number {
    return this.names.length;
  }

  /** Keys with a live history. */
  get keys(): number {
    return this.series.size;
  }

  /** Histories dropped to respect `maxKeys`, since creation (or as restored). */
  get evictions(): number {
    return this.evicted;
  }

  /** Records `event`'s value in its key's history and returns the event with the time-series vector. */
  apply(event: FeatureEvent): FeatureEvent {
    if (event.features.length !== 1) {
      throw new InvalidOptionError(
        `time-series mode expects events with one feature, got ${event.features.length}; set features.fields to one field`,
      );
    }
    const { values } = this.touch(event.key);
    values.push(event.features[0]!);
    if (values.length > this.options.lags) values.shift();
    const features = this.vector(values, event.timestamp);
    const partial = values.length < this.options.lags;
    return partial ? { ...event, features, partial } : { ...event, features };
  }

  getState(): TimeSeriesState {
    return {
      version: 1,
      lags: this.options.lags,
      series: [...this.series].map(([key, e]) => {
        const entry = { key, values: [...e.values] };
        return e.scorer ? { ...entry, scorer: e.scorer.getState() } : entry;
      }),
      evictions: this.evicted,
    };
  }

  /**
   * Restores `getState()` output. Throws `SerializationError` when it is malformed or was written with
   * another `lags`. When it holds more series than `maxKeys`, the least recently seen are dropped.
   */
  setState(state: unknown): void {
    const parsed = stateSchema.safeParse(state);
    if (!parsed.success) {
      throw new SerializationError(`invalid time-series state: ${z.prettifyError(parsed.error)}`);
    }
    const s = parsed.data;
    if (s.lags !== this.options.lags || s.series.some((e) => e.values.length > s.lags)) {
      throw new SerializationError(
        `time-series state was written with lags ${s.lags}, but ${this.options.lags} are configured`,
        { context: { saved: s.lags, configured: this.options.lags } },
      );
    }
    const kept = s.series.slice(Math.max(0, s.series.length - this.options.maxKeys));
    this.series = new Map(
      kept.map((e): [string | null, SeriesEntry] => {
        const scorer = this.createScorer();
        if (scorer && e.scorer) scorer.setState(e.scorer);
        return [e.key, { values: [...e.values], scorer }];
      }),
    );
    this.evicted = s.evictions + (s.series.length - kept.length);
  }

  /** Whether per-series scoring is on (`scoring.enabled`). */
  get scoringEnabled(): boolean {
    return this.options.scoring?.enabled === true;
  }

  /**
   * The key's `SeriesScorer` score of its next scored event (see `SeriesScorer.next`); the scorer then
   * learns it. A key evicted since its event was featurized starts a fresh scorer. Throws when scoring is
   * off.
   */
  score(
    key: string | null,
    value: number,
    logLikelihood: number,
    detectorScore: number,
    scored: boolean,
  ): number {
    if (!this.scoringEnabled)
      throw new InvalidOptionError('per-series scoring is off (timeseries.scoring.enabled)');
    const entry = this.series.get(key) ?? this.touch(key);
    entry.scorer ??= new SeriesScorer(this.options.scoring!);
    return entry.scorer.next(value, logLikelihood, detectorScore, scored);
  }

  private createScorer(): SeriesScorer | undefined {
    const o = this.options.scoring;
    return o?.enabled === true ? new SeriesScorer(o) : undefined;
  }

  /** The key's history, marked most recently used; creates it (evicting the LRU key) when absent. */
  private touch(key: string | null): SeriesEntry {
    const existing = this.series.get(key);
    if (existing !== undefined) {
      this.series.delete(key);
      this.series.set(key, existing);
      return existing;
    }
    if (this.series.size >= this.options.maxKeys) {
      const oldest = this.series.keys().next();
      if (oldest.done !== true) this.series.delete(oldest.value);
      this.evicted++;
    }
    const created: SeriesEntry = { values: [], scorer: this.createScorer() };
    this.series.set(key, created);
    return created;
  }

  private vector(values: readonly number[], timestamp: number): Float32Array {
    const { lags, differences, timeOfDay, dayOfWeek } = this.options;
    const out = new Float32Array(this.names.length);
    // x(i) = x_{t−i}, back-filled with the oldest value while the history is short.
    const x = (i: number): number => values[Math.max(0, values.length - 1 - i)]!;
    out[0] = x(0);
    for (let i = 1; i < lags; i++) out[i] = differences ? x(i - 1) - x(i) : x(i);
    let j = lags;
    if (timeOfDay) for (const v of cyclic(timestamp, DAY_MS, 0, 0x51ed)) out[j++] = v;
    if (dayOfWeek) for (const v of cyclic(timestamp, WEEK_MS, MONDAY_EPOCH_MS, 0x2f0b)) out[j++] = v;
    return out;
  }
}

/**
 * Operator form: decoded events become time-series events (dead letters pass through). Events with a
 * short history come out `partial`; the detector behind must emit those as 'warming' without learning
 * them. State advances as records are decoded, ahead of scoring: prefer `TimeSeriesDetector` when the
 * featurizer's state is checkpointed with the model.
 */
export function timeSeriesFeatures(featurizer: TimeSeriesFeaturizer): OperatorFunction<Decoded, Decoded> {
  return map((d) => (d.ok ? { ok: true, event: featurizer.apply(d.event) } : d));
}
