import {
  connect,
  filter,
  map,
  merge,
  type OperatorFunction,
  pipe,
  type SchedulerLike,
  Subject,
  takeUntil,
  tap,
} from 'rxjs';
import type { DriftEvent } from '../core/drift.js';
import { InvalidOptionError } from '../errors.js';
import type { AckTracker } from './acks.js';
import { CreditGate } from './backpressure.js';
import { microBatch, validateMicroBatchOptions } from './batch.js';
import { decode } from './decode.js';
import type { FeatureSpec } from './feature-spec.js';
import {
  type AlertGate,
  acknowledge,
  type DriftStage,
  failIn,
  gateAlerts,
  notify,
  type ObservedBatch,
  observeDrift,
  oneAtATime,
  PipelineCounters,
  type PipelineSummary,
  registerArrivals,
  type StageFailure,
  scoreBatches,
  stageFailure,
  validateWritesInFlight,
  writeBehind,
  writeDeadLetters,
  writeOutputs,
} from './operators/index.js';
import type { RecordSource } from './source.js';
import type { BatchDetector, DeadLetter, Decoded, FeatureEvent, ScoredEvent, Sink } from './types.js';

export {
  type AlertGate,
  type DriftStage,
  PipelineError,
  type PipelineStage,
  type PipelineSummary,
} from './operators/index.js';

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
  /**
   * Batches whose outputs may still be being written while the next batch is scored (0–8, default 0:
   * each batch is written and acknowledged before the next is scored). Overlapping the wait for a
   * broker's acknowledgement with scoring raises throughput; acknowledgements, `onBatch` and the order
   * of each sink's writes stay as they are, and `onBatch` never runs while the detector is busy. With
   * more than 0, the detector may have learned from up to that many batches newer than the one
   * `onBatch` reports.
   */
  readonly writesInFlight?: number;
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

/** A running pipeline. */
export interface PipelineHandle {
  /** Resolves with the summary when the source ends (or after `stop`); rejects with a `PipelineError`. */
  readonly done: Promise<PipelineSummary>;
  /** Stops reading, lets in-flight records finish and be acknowledged, then resolves like `done`. */
  stop(): Promise<PipelineSummary>;
  /** Counts so far. */
  summary(): PipelineSummary;
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
  if (options.writesInFlight !== undefined) validateWritesInFlight(options.writesInFlight);
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

const isDead = (d: Decoded): d is Extract<Decoded, { ok: false }> => !d.ok;
const isEvent = (d: Decoded): d is Extract<Decoded, { ok: true }> => d.ok;

/** What the two branches after `decode` share. */
interface Branch {
  readonly options: PipelineOptions;
  readonly gate: CreditGate;
  readonly counters: PipelineCounters;
  readonly fail: StageFailure;
}

/** Dead letters: written to the dead-letter sink, counted, acknowledged, reported; one at a time. */
function deadLetters({ options, gate, counters, fail }: Branch): OperatorFunction<Decoded, DeadLetter> {
  return pipe(
    filter(isDead),
    map((d) => d.dead),
    oneAtATime(
      pipe(
        writeDeadLetters(options.sinks.deadLetters, fail),
        tap((dead) => counters.deadLettered(dead)),
        acknowledge(options.acks, gate, (dead) => [dead.record]),
        notify(options.onDeadLetter, fail),
      ),
    ),
  );
}

function batchInfo(batch: ObservedBatch, inFlight: number): BatchInfo {
  const { events, results, anomalies, alerts, driftEvents } = batch;
  const suppressed = anomalies - alerts.length;
  return { events, results, anomalies, alerts: alerts.length, suppressed, driftEvents, inFlight };
}

/**
 * Events: micro-batched, then each batch scored, gated, observed for drift, written, counted,
 * acknowledged and reported, in order. With `writesInFlight` > 0 the next batches are scored while
 * earlier ones are still being written (`writeBehind`); a batch is still acknowledged only after its writes.
 */
function batches({ options, gate, counters, fail }: Branch): OperatorFunction<Decoded, BatchInfo> {
  const { batch, scheduler } = options;
  return pipe(
    filter(isEvent),
    map((d) => d.event),
    microBatch<FeatureEvent>({ ...batch, ...(scheduler ? { scheduler } : {}) }),
    writeBehind(
      {
        score: pipe(
          scoreBatches(options.detector, fail),
          gateAlerts(options.alertGate, fail),
          observeDrift(options.drift, fail),
        ),
        write: writeOutputs(options.sinks, fail),
        finish: pipe(
          tap((written: ObservedBatch) => counters.batchWritten(written)),
          acknowledge(options.acks, gate, (written) => written.events.map((e) => e.ref)),
          map((done) => batchInfo(done, gate.inFlight)),
          notify(options.onBatch, fail),
        ),
      },
      options.writesInFlight ?? 0,
    ),
  );
}

/**
 * Runs source → decode → (dead letters → DLQ sink) | (events → microBatch → detector, one batch at a time
 * in order → alert gate → drift stage → anomaly/score/drift sinks) → acknowledge. A record is
 * acknowledged (AckTracker.ack + credit released) only after all its outputs resolved: its dead letter,
 * or every sink write of its batch. A suppressed anomaly has no anomalies-sink write of its own; it is
 * acknowledged with its batch once the batch's writes (scores, other alerts, drift events) resolved. The
 * tracker keeps commits in arrival order, so a dead letter acknowledged early never lets the commit
 * position pass an earlier event whose batch is still being scored. Sinks are not closed here: the
 * caller owns them. The stages are the operators of `./operators/`.
 */
export function runPipeline(options: PipelineOptions): PipelineHandle {
  validate(options);
  const gate = new CreditGate(options.highWaterMark);
  const counters = new PipelineCounters(gate, options.acks);
  const fail = stageFailure(() => ({ summary: counters.summary() }));
  const branch: Branch = { options, gate, counters, fail };
  const stop$ = new Subject<void>();

  const work$ = options.source.records(gate).pipe(
    failIn('source', fail),
    takeUntil(stop$),
    registerArrivals(options.acks, fail, () => counters.arrived()),
    decode(options.spec),
    connect((decoded) => merge(decoded.pipe(deadLetters(branch)), decoded.pipe(batches(branch)))),
  );

  const done = new Promise<PipelineSummary>((resolve, reject) => {
    work$.subscribe({
      error: (err: unknown) => reject(fail('source', err)),
      complete: () => resolve(counters.summary()),
    });
  });

  return {
    done,
    stop() {
      stop$.next();
      return done;
    },
    summary: () => counters.summary(),
  };
}
