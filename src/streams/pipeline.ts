import {
  catchError,
  concatMap,
  connect,
  filter,
  map,
  merge,
  type SchedulerLike,
  Subject,
  takeUntil,
  tap,
  throwError,
} from 'rxjs';
import type { DriftEvent } from '../detector/drift.js';
import { FlowsentinelError, InvalidOptionError, isRetriable } from '../errors.js';
import type { AckTracker, CommitPosition } from './acks.js';
import { CreditGate } from './backpressure.js';
import { microBatch, validateMicroBatchOptions } from './batch.js';
import { decode } from './decode.js';
import type { FeatureSpec } from './feature-spec.js';
import type { RecordSource } from './source.js';
import type {
  BatchDetector,
  DeadLetter,
  DeadLetterReason,
  Decoded,
  FeatureEvent,
  RecordRef,
  ScoredEvent,
  Sink,
} from './types.js';

/** Where in the pipeline an error happened. */
export type PipelineStage =
  | 'source'
  | 'acks'
  | 'detector'
  | 'suppression'
  | 'drift'
  | 'anomalies-sink'
  | 'scores-sink'
  | 'drift-sink'
  | 'dead-letter-sink'
  | 'callback';

/** The pipeline failed; `stage` says where, `retriable` is copied from the cause, `context.summary` holds the counts so far. */
export class PipelineError extends FlowsentinelError {
  readonly stage: PipelineStage;

  constructor(stage: PipelineStage, cause: unknown, context: Record<string, unknown> = {}) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`pipeline failed in ${stage}: ${message}`, {
      cause,
      retriable: isRetriable(cause),
      context: { stage, ...context },
    });
    this.stage = stage;
  }
}

/** Output destinations. */
export interface PipelineSinks {
  /** Alerts: scored events with `isAnomaly`, minus those the alert gate suppressed. */
  readonly anomalies: Sink<ScoredEvent>;
  /** Every scored (and warming) event, when wanted; suppressed anomalies included, with their episode. */
  readonly scores?: Sink<ScoredEvent>;
  readonly deadLetters: Sink<DeadLetter>;
  /** Drift events of the drift stage, when wanted. */
  readonly drift?: Sink<DriftEvent>;
}

/** Picks which anomalies become alerts (e.g. `AlertSuppressor`); sees every batch, in order. */
export interface AlertGate {
  apply(results: readonly ScoredEvent[]): {
    /** Every input, in order (anomalies may be annotated). */
    readonly results: readonly ScoredEvent[];
    /** The anomalies to write to the anomalies sink. */
    readonly alerts: readonly ScoredEvent[];
  };
}

/** Watches the scored stream for drift (e.g. `DriftMonitor`); sees every batch, in order. */
export interface DriftStage {
  observe(results: readonly ScoredEvent[]): readonly DriftEvent[];
}

/** Options of `runPipeline`. */
export interface PipelineOptions {
  readonly source: RecordSource;
  readonly spec: FeatureSpec;
  /**
   * Micro-batching. `maxWaitMs: Infinity` batches by count only, so batch boundaries (and hence model
   * updates) do not depend on I/O timing: use it for byte-identical replays of finite sources, never for
   * a live source, where an idle stream would hold a partial batch forever.
   */
  readonly batch: { readonly maxSize: number; readonly maxWaitMs: number };
  readonly detector: BatchDetector;
  readonly sinks: PipelineSinks;
  /** Alert suppression after the detector; without it every anomaly is an alert. */
  readonly alertGate?: AlertGate;
  /** Drift detection after the detector (and the alert gate). */
  readonly drift?: DriftStage;
  /** Registers arrivals and acknowledgements; its `committable()` is what a Kafka source may commit. */
  readonly acks: AckTracker;
  /** Max records in flight (read, not yet acknowledged). Must be ≥ `batch.maxSize`. */
  readonly highWaterMark: number;
  /** Scheduler of the batch timer; default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Called after each batch is durable and acknowledged (metrics, progress). */
  readonly onBatch?: (info: BatchInfo) => void;
  /** Called after each dead letter is durable and acknowledged. */
  readonly onDeadLetter?: (dead: DeadLetter) => void;
}

/** What `onBatch` sees. */
export interface BatchInfo {
  readonly events: readonly FeatureEvent[];
  /** Detector output after the alert gate (anomalies carry `episode` when suppression is on). */
  readonly results: readonly ScoredEvent[];
  /** Events flagged `isAnomaly`, alerted or not. */
  readonly anomalies: number;
  /** Anomalies written to the anomalies sink. */
  readonly alerts: number;
  /** Anomalies the alert gate suppressed (`anomalies − alerts`). */
  readonly suppressed: number;
  readonly driftEvents: readonly DriftEvent[];
  /** Records in flight after this batch was acknowledged. */
  readonly inFlight: number;
}

/** Counts of a run. After a successful run `in === scored + warming + deadLettered`. */
export interface PipelineSummary {
  readonly in: number;
  readonly scored: number;
  readonly warming: number;
  /** Events flagged `isAnomaly`. */
  readonly anomalies: number;
  /** Anomalies written to the anomalies sink; `anomalies − alerts` were suppressed. */
  readonly alerts: number;
  readonly suppressed: number;
  readonly driftEvents: number;
  readonly deadLettered: number;
  readonly deadLetteredByReason: Readonly<Record<DeadLetterReason, number>>;
  readonly batches: number;
  /** Highest number of records in flight at any time (≤ highWaterMark). */
  readonly maxInFlight: number;
  /** `acks.committable()` at the time of the summary. */
  readonly committed: readonly CommitPosition[];
}

/** A running pipeline. */
export interface PipelineHandle {
  /** Resolves with the summary when the source ends (or after `stop`); rejects with a `PipelineError`. */
  readonly done: Promise<PipelineSummary>;
  /** Stops reading, lets in-flight records finish and be acknowledged, then resolves like `done`. */
  stop(): Promise<PipelineSummary>;
  /** Counts so far. */
  summary(): PipelineSummary;
}

function emptyReasons(): Record<DeadLetterReason, number> {
  return {
    not_json: 0,
    not_object: 0,
    missing_field: 0,
    non_numeric: 0,
    non_finite: 0,
    oversize: 0,
    oversize_key: 0,
    empty_value: 0,
    output_rejected: 0,
  };
}

function validate(options: PipelineOptions): void {
  validateMicroBatchOptions(options.batch);
  const hwm = options.highWaterMark;
  if (!Number.isSafeInteger(hwm) || hwm < options.batch.maxSize) {
    throw new InvalidOptionError(
      `highWaterMark (${hwm}) must be an integer >= batch.maxSize (${options.batch.maxSize}), otherwise batches can never fill`,
      { context: { highWaterMark: hwm, maxSize: options.batch.maxSize } },
    );
  }
  if (typeof options.detector?.process !== 'function') {
    throw new InvalidOptionError('detector must implement BatchDetector.process(batch)');
  }
  if (options.alertGate !== undefined && typeof options.alertGate.apply !== 'function') {
    throw new InvalidOptionError('alertGate must implement apply(results), e.g. an AlertSuppressor');
  }
  if (options.drift !== undefined && typeof options.drift.observe !== 'function') {
    throw new InvalidOptionError('drift must implement observe(results), e.g. a DriftMonitor');
  }
  const { anomalies, deadLetters } = options.sinks ?? {};
  if (anomalies === undefined || deadLetters === undefined) {
    throw new InvalidOptionError('sinks.anomalies and sinks.deadLetters are required');
  }
}

/** Without a gate every anomaly is an alert; with one, its results must match the input one to one. */
function gateAlerts(
  alertGate: AlertGate | undefined,
  scored: readonly ScoredEvent[],
): { readonly results: readonly ScoredEvent[]; readonly alerts: readonly ScoredEvent[] } {
  if (alertGate === undefined) return { results: scored, alerts: scored.filter((r) => r.isAnomaly) };
  const out = alertGate.apply(scored);
  if (out.results.length !== scored.length) {
    throw new Error(`alert gate returned ${out.results.length} results for ${scored.length} events`);
  }
  return out;
}

const isDead = (d: Decoded): d is Extract<Decoded, { ok: false }> => !d.ok;
const isEvent = (d: Decoded): d is Extract<Decoded, { ok: true }> => d.ok;

function checkResults(events: readonly FeatureEvent[], results: readonly ScoredEvent[]): void {
  const mismatch =
    results.length !== events.length ||
    results.some(
      (r, i) => r.ref.offset !== events[i]!.ref.offset || r.ref.partition !== events[i]!.ref.partition,
    );
  if (mismatch) {
    throw new Error(
      `detector returned ${results.length} results for ${events.length} events, or out of order`,
    );
  }
}

/**
 * Runs source → decode → (dead letters → DLQ sink) | (events → microBatch → detector, one batch at a time
 * in order → alert gate → drift stage → anomaly/score/drift sinks) → acknowledge. A record is
 * acknowledged (AckTracker.ack + credit released) only after all its outputs resolved: its dead letter,
 * or every sink write of its batch. A suppressed anomaly has no anomalies-sink write of its own; it is
 * acknowledged with its batch once the batch's writes (scores, other alerts, drift events) resolved. The
 * tracker keeps commits in arrival order, so a dead letter acknowledged early never lets the commit
 * position pass an earlier event whose batch is still being scored. Sinks are not closed here: the
 * caller owns them.
 */
export function runPipeline(options: PipelineOptions): PipelineHandle {
  validate(options);
  const { acks, sinks, detector, spec } = options;
  const gate = new CreditGate(options.highWaterMark);
  const stop$ = new Subject<void>();
  const counts = {
    in: 0,
    scored: 0,
    warming: 0,
    anomalies: 0,
    alerts: 0,
    suppressed: 0,
    driftEvents: 0,
    deadLettered: 0,
    batches: 0,
  };
  const reasons = emptyReasons();

  const summary = (): PipelineSummary => ({
    ...counts,
    deadLetteredByReason: { ...reasons },
    maxInFlight: gate.maxInFlight,
    committed: acks.committable(),
  });
  const fail = (stage: PipelineStage, err: unknown): PipelineError =>
    err instanceof PipelineError ? err : new PipelineError(stage, err, { summary: summary() });
  const attempt = async <T>(stage: PipelineStage, fn: () => Promise<T> | T): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw fail(stage, err);
    }
  };
  const acknowledge = (refs: readonly RecordRef[]): void => {
    for (const ref of refs) acks.ack(ref);
    gate.release(refs.length);
  };

  const writeDeadLetter = async (dead: DeadLetter): Promise<void> => {
    await attempt('dead-letter-sink', () => sinks.deadLetters.write([dead]));
    counts.deadLettered++;
    reasons[dead.reason]++;
    acknowledge([dead.record]);
    await attempt('callback', () => options.onDeadLetter?.(dead));
  };

  const processBatch = async (events: FeatureEvent[]): Promise<void> => {
    const scored = await attempt('detector', async () => {
      const out = await detector.process(events);
      checkResults(events, out);
      return out;
    });
    const { results, alerts } = await attempt('suppression', () => gateAlerts(options.alertGate, scored));
    const driftEvents = await attempt('drift', () => options.drift?.observe(results) ?? []);
    const anomalies = results.filter((r) => r.isAnomaly).length;
    const { scores: scoresSink, drift: driftSink } = sinks;
    await Promise.all([
      alerts.length > 0 ? attempt('anomalies-sink', () => sinks.anomalies.write(alerts)) : undefined,
      scoresSink === undefined ? undefined : attempt('scores-sink', () => scoresSink.write(results)),
      driftSink === undefined || driftEvents.length === 0
        ? undefined
        : attempt('drift-sink', () => driftSink.write(driftEvents)),
    ]);
    counts.batches++;
    counts.anomalies += anomalies;
    counts.alerts += alerts.length;
    counts.suppressed += anomalies - alerts.length;
    counts.driftEvents += driftEvents.length;
    for (const r of results) counts[r.status === 'warming' ? 'warming' : 'scored']++;
    acknowledge(events.map((e) => e.ref));
    const info: BatchInfo = {
      events,
      results,
      anomalies,
      alerts: alerts.length,
      suppressed: anomalies - alerts.length,
      driftEvents,
      inFlight: gate.inFlight,
    };
    await attempt('callback', () => options.onBatch?.(info));
  };

  const work$ = options.source.records(gate).pipe(
    catchError((err: unknown) => throwError(() => fail('source', err))),
    takeUntil(stop$),
    tap((record) => {
      try {
        acks.register(record);
      } catch (err) {
        throw fail('acks', err);
      }
      counts.in++;
    }),
    decode(spec),
    connect((decoded) =>
      merge(
        decoded.pipe(
          filter(isDead),
          concatMap((d) => writeDeadLetter(d.dead)),
        ),
        decoded.pipe(
          filter(isEvent),
          map((d) => d.event),
          microBatch<FeatureEvent>({
            ...options.batch,
            ...(options.scheduler ? { scheduler: options.scheduler } : {}),
          }),
          concatMap((batch) => processBatch(batch)),
        ),
      ),
    ),
  );

  const done = new Promise<PipelineSummary>((resolve, reject) => {
    work$.subscribe({
      error: (err: unknown) => reject(fail('source', err)),
      complete: () => resolve(summary()),
    });
  });

  return {
    done,
    stop() {
      stop$.next();
      return done;
    },
    summary,
  };
}
