import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DriftEvent, DriftSnapshot } from '../core/drift.js';
import { DEAD_LETTER_REASONS, type DeadLetterReason, type ScoredEvent } from '../core/records.js';
import { observeAll } from './observe-all.js';

/** Values of the `result` label of `flowsentinel_events_total`; each event counts under exactly one. */
export type EventResult = 'scored' | 'anomaly' | 'warming' | 'dead_lettered';

/** Log-likelihood buckets, nats: dense around typical values (−30..+10), sparse out to −1000 and +50. */
export const LOG_LIKELIHOOD_BUCKETS_NATS = [
  -1000, -500, -200, -100, -50, -30, -20, -15, -10, -7.5, -5, -2.5, 0, 2.5, 5, 10, 20, 50,
] as const;
/** Anomaly-score buckets, concentrated in the upper tail where alerts live. */
export const ANOMALY_SCORE_BUCKETS = [
  0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1,
] as const;
/** Batch processing time buckets, seconds. */
export const BATCH_DURATION_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;
/** Event time → scored latency buckets, seconds. */
export const EVENT_LATENCY_BUCKETS_SECONDS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600,
] as const;
/** Batch size buckets, events. */
export const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as const;

/** Handles of every flowsentinel metric family. */
export interface DetectorMetrics {
  /** Events by outcome: scored (normal), anomaly, warming, dead_lettered. */
  readonly events: Counter<'result'>;
  readonly deadLetters: Counter<'reason'>;
  readonly logLikelihood: Histogram;
  readonly anomalyScore: Histogram;
  readonly trainingLoss: Gauge;
  readonly trainingSteps: Counter;
  /** Steps skipped, e.g. reason="non_finite" for a NaN/∞ loss or gradient. */
  readonly trainingStepsSkipped: Counter<'reason'>;
  readonly batchDuration: Histogram;
  readonly eventLatency: Histogram;
  readonly batchSize: Histogram;
  readonly threshold: Gauge<'policy'>;
  readonly modelVersion: Gauge;
  readonly backendInfo: Gauge<'backend'>;
  readonly driftScore: Gauge;
  readonly windowMeanLogLikelihood: Gauge;
  readonly referenceLogLikelihood: Gauge;
  /** σ of the per-event log-likelihood over the reference events, nats. */
  readonly referenceLogLikelihoodStd: Gauge;
  /** Configured drift level (`drift.level`), reference σ. */
  readonly driftLevel: Gauge;
  /** 1 while a confirmed drift episode is open, else 0. */
  readonly driftActive: Gauge;
  /** Drift events by kind: started (confirmed) and ended. */
  readonly driftEvents: Counter<'kind'>;
  /** Anomalies not alerted because their key's episode (or interval) had already alerted. */
  readonly alertsSuppressed: Counter;
}

/** Registers all flowsentinel metric families on `registry` (call once per registry). */
export function createDetectorMetrics(registry: Registry): DetectorMetrics {
  const metrics = buildFamilies(registry);
  // Zero-initialise known label values so rates work from the first scrape.
  for (const result of EVENT_RESULTS) metrics.events.inc({ result }, 0);
  for (const reason of DEAD_LETTER_REASONS) metrics.deadLetters.inc({ reason }, 0);
  metrics.trainingStepsSkipped.inc({ reason: 'non_finite' }, 0);
  for (const kind of DRIFT_EVENT_KINDS) metrics.driftEvents.inc({ kind }, 0);
  return metrics;
}

const DRIFT_EVENT_KINDS: readonly DriftEvent['kind'][] = ['started', 'ended'];
const EVENT_RESULTS: readonly EventResult[] = ['scored', 'anomaly', 'warming', 'dead_lettered'];

function buildFamilies(registry: Registry): DetectorMetrics {
  const registers = [registry];
  return {
    events: new Counter({
      name: 'flowsentinel_events_total',
      help: 'Events processed, by outcome (each event counts once: scored = normal).',
      labelNames: ['result'] as const,
      registers,
    }),
    deadLetters: new Counter({
      name: 'flowsentinel_dead_letters_total',
      help: 'Records that could not be decoded into feature events, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    logLikelihood: new Histogram({
      name: 'flowsentinel_log_likelihood_nats',
      help: 'Log-likelihood of scored events under the model, in nats.',
      buckets: [...LOG_LIKELIHOOD_BUCKETS_NATS],
      registers,
    }),
    anomalyScore: new Histogram({
      name: 'flowsentinel_anomaly_score',
      help: 'Calibrated anomaly score of scored events, in [0, 1].',
      buckets: [...ANOMALY_SCORE_BUCKETS],
      registers,
    }),
    trainingLoss: new Gauge({
      name: 'flowsentinel_training_loss_nats',
      help: 'Mean negative log-likelihood of the last training step, in nats.',
      registers,
    }),
    trainingSteps: new Counter({
      name: 'flowsentinel_training_steps_total',
      help: 'Optimizer steps applied.',
      registers,
    }),
    trainingStepsSkipped: new Counter({
      name: 'flowsentinel_training_steps_skipped_total',
      help: 'Optimizer steps skipped, by reason (non_finite: NaN or infinite loss or gradient).',
      labelNames: ['reason'] as const,
      registers,
    }),
    batchDuration: new Histogram({
      name: 'flowsentinel_batch_duration_seconds',
      help: 'Time to score and train on one micro-batch, in seconds.',
      buckets: [...BATCH_DURATION_BUCKETS_SECONDS],
      registers,
    }),
    eventLatency: new Histogram({
      name: 'flowsentinel_event_latency_seconds',
      help: 'Delay from event time to scoring, in seconds.',
      buckets: [...EVENT_LATENCY_BUCKETS_SECONDS],
      registers,
    }),
    batchSize: new Histogram({
      name: 'flowsentinel_batch_size',
      help: 'Events per micro-batch.',
      buckets: [...BATCH_SIZE_BUCKETS],
      registers,
    }),
    threshold: new Gauge({
      name: 'flowsentinel_threshold',
      help: 'Threshold in force: log-likelihood in nats (static, quantile) or p-value (pvalue).',
      labelNames: ['policy'] as const,
      registers,
    }),
    modelVersion: new Gauge({
      name: 'flowsentinel_model_version',
      help: 'Training updates applied to the model so far.',
      registers,
    }),
    backendInfo: new Gauge({
      name: 'flowsentinel_backend_info',
      help: 'TensorFlow.js backend in use (value is always 1).',
      labelNames: ['backend'] as const,
      registers,
    }),
    driftScore: new Gauge({
      name: 'flowsentinel_drift_score',
      help: 'Density drift score: drop of the window mean log-likelihood below the reference, in reference standard deviations.',
      registers,
    }),
    windowMeanLogLikelihood: new Gauge({
      name: 'flowsentinel_window_mean_log_likelihood_nats',
      help: 'Mean (winsorised) log-likelihood of the recent window of scored events, in nats.',
      registers,
    }),
    referenceLogLikelihood: new Gauge({
      name: 'flowsentinel_reference_log_likelihood_nats',
      help: 'Mean (winsorised) log-likelihood of the reference events measured after warm-up, in nats.',
      registers,
    }),
    referenceLogLikelihoodStd: new Gauge({
      name: 'flowsentinel_reference_log_likelihood_std_nats',
      help: 'Standard deviation of the per-event (winsorised) log-likelihood over the reference events, in nats.',
      registers,
    }),
    driftLevel: new Gauge({
      name: 'flowsentinel_drift_level',
      help: 'Drift score at which density drift counts (drift.level), in reference standard deviations.',
      registers,
    }),
    driftActive: new Gauge({
      name: 'flowsentinel_drift_active',
      help: '1 while a confirmed density drift episode is open, else 0.',
      registers,
    }),
    driftEvents: new Counter({
      name: 'flowsentinel_drift_events_total',
      help: 'Density drift events, by kind (started: drift confirmed; ended: recovered or reference reset).',
      labelNames: ['kind'] as const,
      registers,
    }),
    alertsSuppressed: new Counter({
      name: 'flowsentinel_alerts_suppressed_total',
      help: 'Anomalies not written as alerts because their key already alerted in the same episode or interval.',
      registers,
    }),
  };
}

/** Marks `backend` as the one in use (clears any previously set backend). */
export function setBackendInfo(metrics: DetectorMetrics, backend: string): void {
  metrics.backendInfo.reset();
  metrics.backendInfo.set({ backend }, 1);
}

/** Counts dead-lettered records by reason (also under events_total{result="dead_lettered"}). */
export function recordDeadLetters(metrics: DetectorMetrics, reasons: readonly DeadLetterReason[]): void {
  const counts = new Map<DeadLetterReason, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  for (const [reason, n] of counts) metrics.deadLetters.inc({ reason }, n);
  if (reasons.length > 0) metrics.events.inc({ result: 'dead_lettered' }, reasons.length);
}

/**
 * Updates the per-event families for one scored batch in a single pass: events_total by result,
 * log-likelihood and anomaly-score histograms (status 'scored' only; non-finite log-likelihoods are not
 * observed), event latency (`nowMs` − event time, clamped at 0), batch size and model version.
 */
export function recordBatch(metrics: DetectorMetrics, scored: readonly ScoredEvent[], nowMs: number): void {
  let normal = 0;
  let anomalies = 0;
  let warming = 0;
  let version = Number.NEGATIVE_INFINITY;
  const n = scored.length;
  if (scratch.logLikelihood.length < n) scratch = newScratch(n);
  const { logLikelihood, anomalyScore, latency } = scratch;
  let nLogLikelihood = 0;
  let nAnomalyScore = 0;
  let nLatency = 0;
  for (const e of scored) {
    if (e.status === 'warming') warming++;
    else {
      if (e.isAnomaly) anomalies++;
      else normal++;
      if (Number.isFinite(e.logLikelihood)) logLikelihood[nLogLikelihood++] = e.logLikelihood;
      if (Number.isFinite(e.anomalyScore)) anomalyScore[nAnomalyScore++] = e.anomalyScore;
    }
    if (Number.isFinite(e.timestamp)) latency[nLatency++] = Math.max(0, nowMs - e.timestamp) / 1000;
    version = Math.max(version, e.modelVersion);
  }
  // One pass per histogram and batch; the same values in the same order as one observe per event.
  observeAll(metrics.logLikelihood, logLikelihood, nLogLikelihood);
  observeAll(metrics.anomalyScore, anomalyScore, nAnomalyScore);
  observeAll(metrics.eventLatency, latency, nLatency);
  if (normal > 0) metrics.events.inc({ result: 'scored' }, normal);
  if (anomalies > 0) metrics.events.inc({ result: 'anomaly' }, anomalies);
  if (warming > 0) metrics.events.inc({ result: 'warming' }, warming);
  if (n > 0) {
    metrics.batchSize.observe(n);
    metrics.modelVersion.set(version);
  }
}

/** `recordBatch`'s per-event values of one batch, reused across batches (grown when a batch is larger). */
interface Scratch {
  readonly logLikelihood: Float64Array;
  readonly anomalyScore: Float64Array;
  readonly latency: Float64Array;
}

const newScratch = (n: number): Scratch => ({
  logLikelihood: new Float64Array(n),
  anomalyScore: new Float64Array(n),
  latency: new Float64Array(n),
});

let scratch = newScratch(256);

/** Publishes the configured drift level (`drift.level`) next to the score. */
export function setDriftLevel(metrics: DetectorMetrics, level: number): void {
  metrics.driftLevel.set(level);
}

/**
 * Updates the drift families from the monitor's snapshot (score, window mean and reference only once
 * their value exists; `drift_active` always) and counts `events` by kind.
 */
export function recordDrift(
  metrics: DetectorMetrics,
  snapshot: DriftSnapshot,
  events: readonly DriftEvent[],
): void {
  if (Number.isFinite(snapshot.score)) metrics.driftScore.set(snapshot.score);
  if (Number.isFinite(snapshot.windowMean)) metrics.windowMeanLogLikelihood.set(snapshot.windowMean);
  if (Number.isFinite(snapshot.reference)) metrics.referenceLogLikelihood.set(snapshot.reference);
  if (Number.isFinite(snapshot.referenceStd)) metrics.referenceLogLikelihoodStd.set(snapshot.referenceStd);
  metrics.driftActive.set(snapshot.phase === 'drifting' ? 1 : 0);
  for (const e of events) metrics.driftEvents.inc({ kind: e.kind });
}

/** Counts suppressed alerts. */
export function recordSuppressed(metrics: DetectorMetrics, suppressed: number): void {
  if (suppressed > 0) metrics.alertsSuppressed.inc(suppressed);
}
