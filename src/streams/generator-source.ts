import { createRng, type Rng } from '../core/rng.js';
import { InvalidOptionError } from '../errors.js';
import { DEFAULT_MAX_RECORD_BYTES, parsePath, setPath } from './feature-spec.js';
import { MALFORMED_KINDS, malformedValue } from './generator-malformed.js';
import {
  type AnomalyKind,
  applyAnomaly,
  compose,
  createLatentModel,
  drawClean,
  type LatentModel,
  type Seasonality,
  toRaw,
} from './generator-model.js';
import { iterableSource, type RecordSource } from './source.js';
import type { DeadLetterReason, SourceRecord } from './types.js';

/** Header set to '1' on injected anomalies (absent otherwise): the ground truth for precision/recall. */
export const ANOMALY_HEADER = 'x-injected-anomaly';
/** Header naming the anomaly shape, `spike` or `decorrelate`. */
export const ANOMALY_KIND_HEADER = 'x-anomaly-kind';
/** Header naming the dead-letter reason a malformed record must get. */
export const MALFORMED_HEADER = 'x-injected-malformed';
/** Header set to '1' on events inside a drift episode. */
export const DRIFT_HEADER = 'x-drift';

/** A mean shift of every feature over the events [startIndex, endIndex). */
export interface DriftEpisode {
  readonly startIndex: number;
  readonly endIndex: number;
  /** Shift in marginal standard deviations (may be negative). */
  readonly shiftSigma: number;
  /** Events over which the shift ramps linearly up from 0; default 0 (abrupt). */
  readonly rampEvents?: number;
}

/** Options of the synthetic stream. Everything is a pure function of these, so same options → same bytes. */
export interface GeneratorOptions {
  readonly seed: number;
  /** Records to emit; `Infinity` for an endless stream. Default 10 000. */
  readonly count?: number;
  /** Feature names (dot paths) in the JSON values; their number is the dimension. Default f0…f5. */
  readonly fields?: readonly string[];
  /** Shared latent factors (correlation structure), 1 ≤ k < dims. Default min(2, dims − 1) (1 if dims is 1). */
  readonly latentFactors?: number;
  /** Independent noise per feature, standardised units. Default 0.3. */
  readonly noiseStd?: number;
  /** Periodic component; null for none. Default one cycle per 1440 events, amplitude 1. */
  readonly seasonality?: Seasonality | null;
  /** Probability that an event is an injected anomaly. Default 0.01. */
  readonly anomalyRate?: number;
  /** Range of spike magnitudes in σ. Default [6, 10]. */
  readonly anomalySigma?: readonly [number, number];
  /** Share of `spike` among anomalies; the rest `decorrelate`. Default 0.7. */
  readonly spikeShare?: number;
  /** Probability that a record is replaced by a malformed one. Default 0. */
  readonly malformedRate?: number;
  /** Which malformed kinds to inject, chosen uniformly. Default all seven. */
  readonly malformedKinds?: readonly DeadLetterReason[];
  /** Size of injected `oversize` values, bytes. Default 1 MiB + 1 (the decoder's default limit + 1). */
  readonly oversizeBytes?: number;
  readonly drift?: DriftEpisode | null;
  /** Default 'events'. */
  readonly topic?: string;
  /** Default 1. Entity e goes to partition e mod partitions. */
  readonly partitions?: number;
  /** Entities; record i has key `entity-${i mod entities}`. Default 8. */
  readonly entities?: number;
  /** When set, the entity is also written into the JSON value at this path. */
  readonly keyField?: string;
  /** Event time of record 0, epoch ms. Default 2024-01-01T00:00:00Z. */
  readonly startTime?: number;
  /** Event-time step between records, ms. Default 60 000 (1440 events per day). */
  readonly intervalMs?: number;
  /** Decimal places of the values. Default 4. */
  readonly decimals?: number;
}

type Resolved = Required<Omit<GeneratorOptions, 'keyField'>> & { readonly keyField: string | null };

function check(ok: boolean, message: string, context: Record<string, unknown>): void {
  if (!ok) throw new InvalidOptionError(message, { context });
}

const isCount = (n: number): boolean => n === Number.POSITIVE_INFINITY || (Number.isSafeInteger(n) && n >= 0);
const isRate = (n: number): boolean => typeof n === 'number' && n >= 0 && n <= 1;

function resolve(o: GeneratorOptions): Resolved {
  const fields = o.fields ?? ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'];
  const r: Resolved = {
    seed: o.seed,
    count: o.count ?? 10_000,
    fields,
    latentFactors: o.latentFactors ?? Math.max(1, Math.min(2, fields.length - 1)),
    noiseStd: o.noiseStd ?? 0.3,
    seasonality: o.seasonality === undefined ? { periodEvents: 1440, amplitude: 1 } : o.seasonality,
    anomalyRate: o.anomalyRate ?? 0.01,
    anomalySigma: o.anomalySigma ?? [6, 10],
    spikeShare: o.spikeShare ?? 0.7,
    malformedRate: o.malformedRate ?? 0,
    malformedKinds: o.malformedKinds ?? MALFORMED_KINDS,
    oversizeBytes: o.oversizeBytes ?? DEFAULT_MAX_RECORD_BYTES + 1,
    drift: o.drift ?? null,
    topic: o.topic ?? 'events',
    partitions: o.partitions ?? 1,
    entities: o.entities ?? 8,
    keyField: o.keyField ?? null,
    startTime: o.startTime ?? Date.UTC(2024, 0, 1),
    intervalMs: o.intervalMs ?? 60_000,
    decimals: o.decimals ?? 4,
  };
  validate(r);
  return r;
}

function validate(r: Resolved): void {
  check(Number.isSafeInteger(r.seed), 'seed must be an integer', { seed: r.seed });
  check(isCount(r.count), 'count must be a non-negative integer or Infinity', { count: r.count });
  check(
    r.fields.length > 0 && new Set(r.fields).size === r.fields.length,
    'fields must be non-empty and unique',
    {
      fields: r.fields,
    },
  );
  r.fields.forEach((f, i) => {
    parsePath(f, `fields[${i}]`);
  });
  if (r.keyField !== null) parsePath(r.keyField, 'keyField');
  const k = r.latentFactors;
  check(
    Number.isSafeInteger(k) && k >= 1 && (k < r.fields.length || k === 1),
    'latentFactors must be 1..dims-1',
    { k },
  );
  check(r.noiseStd > 0 && Number.isFinite(r.noiseStd), 'noiseStd must be a positive number', {
    noiseStd: r.noiseStd,
  });
  validateMix(r);
}

/** Seasonality, rates, anomalies, malformed records, drift, partitions and the time axis. */
function validateMix(r: Resolved): void {
  const s = r.seasonality;
  check(
    s === null || (Number.isSafeInteger(s.periodEvents) && s.periodEvents > 0 && s.amplitude >= 0),
    'seasonality needs a positive integer periodEvents and amplitude >= 0 (or null for none)',
    { seasonality: s },
  );
  check(isRate(r.anomalyRate) && isRate(r.malformedRate) && isRate(r.spikeShare), 'rates must be in [0, 1]', {
    anomalyRate: r.anomalyRate,
    malformedRate: r.malformedRate,
    spikeShare: r.spikeShare,
  });
  const [lo, hi] = r.anomalySigma;
  check(lo > 0 && hi >= lo && Number.isFinite(hi), 'anomalySigma must be [lo, hi] with 0 < lo <= hi', {
    lo,
    hi,
  });
  check(r.malformedKinds.length > 0, 'malformedKinds must name at least one reason', {});
  check(
    Number.isSafeInteger(r.oversizeBytes) && r.oversizeBytes > 0,
    'oversizeBytes must be a positive integer',
    {},
  );
  const d = r.drift;
  check(
    d === null || (d.startIndex >= 0 && d.endIndex > d.startIndex && Number.isFinite(d.shiftSigma)),
    'drift needs 0 <= startIndex < endIndex and a finite shiftSigma',
    { drift: d },
  );
  check(Number.isSafeInteger(r.partitions) && r.partitions >= 1, 'partitions must be a positive integer', {});
  check(Number.isSafeInteger(r.entities) && r.entities >= 1, 'entities must be a positive integer', {});
  check(Number.isFinite(r.startTime) && Number.isFinite(r.intervalMs) && r.intervalMs >= 0, 'bad time axis', {
    startTime: r.startTime,
    intervalMs: r.intervalMs,
  });
  check(
    Number.isSafeInteger(r.decimals) && r.decimals >= 0 && r.decimals <= 12,
    'decimals must be 0..12',
    {},
  );
}

function driftShift(drift: DriftEpisode | null, i: number): number {
  if (drift === null || i < drift.startIndex || i >= drift.endIndex) return 0;
  const ramp = drift.rampEvents ?? 0;
  const progress = ramp > 0 ? Math.min(1, (i - drift.startIndex + 1) / ramp) : 1;
  return drift.shiftSigma * progress;
}

const encoder = new TextEncoder();

/** Everything fixed for one run: options, model, feature paths and the three independent random streams. */
interface Context {
  readonly r: Resolved;
  readonly model: LatentModel;
  readonly paths: readonly (readonly string[])[];
  readonly keyPath: readonly string[] | null;
  /** Clean values; separate streams so that toggling anomalies or malformed records leaves the rest unchanged. */
  readonly values: Rng;
  readonly anomalies: Rng;
  readonly malformed: Rng;
}

interface GeneratedEvent {
  readonly value: Uint8Array | null;
  readonly headers: Record<string, Uint8Array>;
}

/** One event's value and headers, before it is wrapped as a record. */
function event(ctx: Context, i: number, entity: string): GeneratedEvent {
  const { r, model, paths, keyPath } = ctx;
  const streams = ctx;
  const draw = drawClean(model, i, streams.values);
  const headers: Record<string, Uint8Array> = {};
  let x: Float64Array;
  if (streams.anomalies.uniform() < r.anomalyRate) {
    const kind: AnomalyKind = streams.anomalies.uniform() < r.spikeShare ? 'spike' : 'decorrelate';
    x = applyAnomaly(model, draw, kind, r.anomalySigma, streams.anomalies);
    headers[ANOMALY_HEADER] = encoder.encode('1');
    headers[ANOMALY_KIND_HEADER] = encoder.encode(kind);
  } else {
    x = compose(model, draw);
  }
  const shift = driftShift(r.drift, i);
  if (shift !== 0) headers[DRIFT_HEADER] = encoder.encode('1');
  const values = toRaw(model, x, shift, r.decimals);
  const extra = (obj: Record<string, unknown>): void => {
    if (keyPath !== null) setPath(obj, keyPath, entity);
  };
  if (streams.malformed.uniform() < r.malformedRate) {
    const kind = r.malformedKinds[Math.floor(streams.malformed.uniform() * r.malformedKinds.length)]!;
    const value = malformedValue(
      kind,
      { paths, values, extra, oversizeBytes: r.oversizeBytes },
      streams.malformed,
    );
    return { value, headers: { [MALFORMED_HEADER]: encoder.encode(kind) } };
  }
  const obj: Record<string, unknown> = {};
  paths.forEach((p, j) => {
    setPath(obj, p, values[j]);
  });
  extra(obj);
  return { value: encoder.encode(JSON.stringify(obj)), headers };
}

/**
 * The seeded synthetic stream as Kafka-shaped records with JSON values: correlated features (latent
 * factor model) with seasonality and noise, injected anomalies (ground truth in `ANOMALY_HEADER`), an
 * optional drift episode (`DRIFT_HEADER`), and optionally malformed records (`MALFORMED_HEADER` = the
 * expected dead-letter reason; a malformed record carries no anomaly header). Timestamps are event time
 * `startTime + i · intervalMs`, never the wall clock. Same options → identical records.
 */
export function* generateRecords(options: GeneratorOptions): Generator<SourceRecord> {
  const r = resolve(options);
  const ctx: Context = {
    r,
    model: createLatentModel(createRng(r.seed), r.fields.length, r.latentFactors, r.noiseStd, r.seasonality),
    paths: r.fields.map((f) => parsePath(f)),
    keyPath: r.keyField === null ? null : parsePath(r.keyField),
    values: createRng((r.seed + 1) | 0),
    anomalies: createRng((r.seed + 2) | 0),
    malformed: createRng((r.seed + 3) | 0),
  };
  const offsets = new Array<number>(r.partitions).fill(0);
  for (let i = 0; i < r.count; i++) {
    const e = i % r.entities;
    const partition = e % r.partitions;
    const entity = `entity-${e}`;
    const { value, headers } = event(ctx, i, entity);
    const offset = offsets[partition]!;
    offsets[partition] = offset + 1;
    yield {
      topic: r.topic,
      partition,
      offset: String(offset),
      timestamp: r.startTime + i * r.intervalMs,
      key: encoder.encode(entity),
      headers,
      value,
    };
  }
}

/** `generateRecords` as a credit-driven `RecordSource`; options are validated now, not on subscribe. */
export function generatorSource(options: GeneratorOptions): RecordSource {
  resolve(options);
  return iterableSource(() => generateRecords(options));
}
