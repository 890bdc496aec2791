/**
 * `runDetectorJob`: the detector over a source, with backend, metrics, health, checkpoints, alert
 * suppression and drift detection. Every command (demo, replay, run) and `evaluate` go through it.
 */
import type { Registry } from 'prom-client';
import type { SchedulerLike } from 'rxjs';
import type { AppConfig } from '../config/schema.js';
import type { BatchDetector } from '../core/detector.js';
import type { DeadLetter } from '../core/records.js';
import type { DriftMonitor } from '../detector/drift.js';
import { createDetector, type DetectorParts } from '../detector/factory.js';
import type { AlertSuppressor } from '../detector/suppression.js';
import { initBackend } from '../flow/backend.js';
import type { Logger } from '../logging.js';
import {
  createDetectorMetrics,
  createJobMetrics,
  createMetricsRegistry,
  type DetectorMetrics,
  type JobMetrics,
  type ProbeResult,
  setBackendInfo,
  setDriftLevel,
} from '../metrics/index.js';
import { createKeyedMetrics, keyedMetricsObserver } from '../metrics/keyed-families.js';
import { AckTracker } from '../streams/acks.js';
import type { CreditGate } from '../streams/backpressure.js';
import { deadLetterRejectedOutputs } from '../streams/dead-letter-on-reject.js';
import {
  type BatchInfo,
  type PipelineSinks,
  type PipelineSummary,
  runPipeline,
} from '../streams/pipeline.js';
import type { RecordSource } from '../streams/source.js';
import { type Checkpointer, openCheckpoints } from './checkpoint.js';
import { recordBatchInfo, recordDeadLetter, reportBacklog, timed, withInFlightGauge } from './instrument.js';
import {
  createAlertSuppressor,
  createDriftMonitor,
  detectorMetricsObserver,
  featureSpecOf,
  pipelineDetector,
} from './parts.js';
import { JobProbe, serveJobMetrics } from './serve.js';

/** Options of `runDetectorJob`. */
export interface JobOptions {
  readonly config: AppConfig;
  readonly source: RecordSource;
  readonly sinks: PipelineSinks;
  readonly logger: Logger;
  /** Shared ack tracker (the Kafka source commits from it); a new one by default. */
  readonly acks?: AckTracker;
  /** Metrics registry created at startup; a new one by default. */
  readonly registry?: Registry;
  /** Serve /metrics, /healthz, /readyz (default: `config.metrics.enabled`). */
  readonly serveMetrics?: boolean;
  /**
   * Why an output-sink error rejects the written records for good (e.g. `recordRejection` for Kafka), or
   * undefined: such records are dead-lettered (`output_rejected`) and the run goes on. Default: none.
   */
  readonly outputRejection?: (err: unknown) => string | undefined;
  /** Extra readiness condition (e.g. Kafka consumer joined). */
  readonly readiness?: () => ProbeResult;
  /** Aborting stops reading, drains in-flight batches and resolves normally. */
  readonly signal?: AbortSignal;
  /** Batch timer scheduler (tests, deterministic replays). */
  readonly scheduler?: SchedulerLike;
  /** Micro-batch wait override; `Infinity` batches by count only (deterministic replays). */
  readonly maxWaitMs?: number;
  /**
   * Batches whose output writes may still be pending while the next is scored (`runPipeline`'s
   * `writesInFlight`); default 0. The Kafka job passes `kafka.writesInFlight`.
   */
  readonly writesInFlight?: number;
  /**
   * The source has its own arrival rate (Kafka, replays at speed `recorded` or N): with
   * `training.budget.enabled` the learned share adapts to the backlog. Default false (max-speed replays,
   * the demo and `evaluate` learn from every batch, deterministically).
   */
  readonly liveSource?: boolean;
  /** Wall clock in ms, for latency metrics. */
  readonly now?: () => number;
  readonly onBatch?: (info: BatchInfo) => void;
  readonly onDeadLetter?: (dead: DeadLetter) => void;
  /** Drift monitor to use (e.g. restored from a checkpoint); default `createDriftMonitor(config)`. */
  readonly driftMonitor?: DriftMonitor;
  /** Alert suppressor to use (e.g. restored from a checkpoint); default `createAlertSuppressor(config)`. */
  readonly suppressor?: AlertSuppressor;
  /**
   * Checkpoints of the run, opened by the caller (replay: to resume after the checkpoint's position);
   * default: opened from `config.checkpoint`. The job restores the detector, drift and suppression state
   * from it, checkpoints after batches and once more after draining.
   */
  readonly checkpoints?: Checkpointer;
}

/** Outcome of a finished job. The caller owns `parts` and must `dispose()` them. */
export interface JobResult {
  readonly summary: PipelineSummary;
  readonly parts: DetectorParts;
  readonly metrics: DetectorMetrics;
  readonly registry: Registry;
  readonly elapsedMs: number;
  /** The drift monitor of the run (undefined when `drift.enabled` is false), e.g. for its state. */
  readonly driftMonitor: DriftMonitor | undefined;
  /** The alert suppressor of the run (undefined when `suppression.enabled` is false). */
  readonly suppressor: AlertSuppressor | undefined;
}

/** Everything a job holds while it runs. */
interface JobParts {
  readonly now: () => number;
  readonly started: number;
  readonly registry: Registry;
  readonly metrics: DetectorMetrics;
  readonly jobMetrics: JobMetrics;
  readonly acks: AckTracker;
  readonly checkpoints: Checkpointer;
  readonly parts: DetectorParts;
  readonly driftMonitor: DriftMonitor | undefined;
  readonly suppressor: AlertSuppressor | undefined;
  readonly probe: JobProbe;
}

/** Backend, metrics, checkpoints and the detector, in that order. */
async function buildJob(options: JobOptions): Promise<JobParts> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const started = now();
  const backend = await initBackend(config.backend, logger);
  const registry = options.registry ?? createMetricsRegistry();
  const metrics = createDetectorMetrics(registry);
  setBackendInfo(metrics, backend.name);
  const acks = options.acks ?? new AckTracker();
  const checkpoints = options.checkpoints ?? (await openCheckpoints({ config, logger, acks }));
  // The flowsentinel_keyed_* families exist only with per-key models.
  const keyedObserver = config.perKey.enabled
    ? { keyedObserver: keyedMetricsObserver(createKeyedMetrics(registry)) }
    : {};
  const parts = createDetector(config, detectorMetricsObserver(config, metrics), {
    ...keyedObserver,
    liveSource: options.liveSource === true,
  });
  const driftMonitor = options.driftMonitor ?? createDriftMonitor(config);
  const suppressor = options.suppressor ?? createAlertSuppressor(config);
  const probe = new JobProbe(options.readiness);
  const jobMetrics = createJobMetrics(registry, {
    highWaterMark: config.batching.highWaterMark,
    ready: probe.ready,
    learnedRatio: () => parts.budget.learnedRatio,
  });
  if (driftMonitor) setDriftLevel(metrics, config.drift.level);
  return {
    now,
    started,
    registry,
    metrics,
    jobMetrics,
    acks,
    checkpoints,
    parts,
    driftMonitor,
    suppressor,
    probe,
  };
}

/** The job's sinks, with permanently rejected outputs dead-lettered when `outputRejection` is given. */
function outputSinks(options: JobOptions, metrics: DetectorMetrics): PipelineSinks {
  if (options.outputRejection === undefined) return options.sinks;
  return deadLetterRejectedOutputs(options.sinks, options.outputRejection, (dead) => {
    recordDeadLetter(metrics, dead);
    const { topic, partition, offset } = dead.record;
    options.logger.warn({ topic, partition, offset, detail: dead.detail }, 'output rejected; dead-lettered');
    options.onDeadLetter?.(dead);
  });
}

/** Restores checkpointed state into the parts; returns the detector the pipeline calls. */
async function restore(config: AppConfig, job: JobParts): Promise<BatchDetector> {
  const { checkpoints, driftMonitor, suppressor } = job;
  await checkpoints.attach(job.parts);
  if (driftMonitor) checkpoints.register('drift', driftMonitor);
  if (suppressor) checkpoints.register('suppression', suppressor);
  return pipelineDetector(config, job.parts, checkpoints);
}

/** Runs the pipeline to its end (or the abort's drain), then writes the final checkpoint. */
async function drive(options: JobOptions, job: JobParts, detector: BatchDetector): Promise<JobResult> {
  const { config, logger } = options;
  const { metrics, jobMetrics, checkpoints, driftMonitor, suppressor, now } = job;
  const { maxSize } = config.batching;
  let gate: CreditGate | undefined;
  const inFlight = (): number => gate?.inFlight ?? 0;
  const handle = runPipeline({
    source: withInFlightGauge(options.source, jobMetrics, (credits) => {
      gate = credits;
    }),
    spec: featureSpecOf(config),
    batch: { maxSize, maxWaitMs: options.maxWaitMs ?? config.batching.maxWaitMs },
    detector: timed(reportBacklog(detector, job.parts.budget, inFlight, maxSize), metrics, now),
    sinks: outputSinks(options, metrics),
    ...(suppressor ? { alertGate: suppressor } : {}),
    ...(driftMonitor ? { drift: driftMonitor } : {}),
    acks: job.acks,
    highWaterMark: config.batching.highWaterMark,
    ...(options.writesInFlight === undefined ? {} : { writesInFlight: options.writesInFlight }),
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    onBatch: async (info) => {
      recordBatchInfo({ metrics, jobMetrics, driftMonitor, logger, now }, info);
      options.onBatch?.(info);
      if (await checkpoints.maybeCheckpoint(info)) jobMetrics.checkpoints.inc();
    },
    onDeadLetter: (dead) => {
      recordDeadLetter(metrics, dead);
      options.onDeadLetter?.(dead);
    },
  });
  job.probe.start();
  const onAbort = (): void => {
    logger.info('stop requested: draining in-flight batches');
    handle.stop().catch(() => undefined); // the outcome is reported through `done`
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const summary = await handle.done;
    if ((await checkpoints.finalCheckpoint()) !== undefined) jobMetrics.checkpoints.inc();
    const { parts, registry } = job;
    return { summary, parts, metrics, registry, elapsedMs: now() - job.started, driftMonitor, suppressor };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    job.probe.stop();
  }
}

/**
 * Runs the detector over a source until it ends or `signal` aborts: selects the tfjs backend, builds the
 * model from config, serves metrics and health, and runs the pipeline with acknowledgements, alert
 * suppression (`suppression.*`) and drift detection (`drift.*`; drift events go to `sinks.drift`). Ordered
 * shutdown: stop reading → drain in-flight batches → close the metrics server. Sinks stay open: the
 * caller flushes/commits/closes them afterwards.
 */
export async function runDetectorJob(options: JobOptions): Promise<JobResult> {
  const job = await buildJob(options);
  let server: Awaited<ReturnType<typeof serveJobMetrics>>;
  try {
    const detector = await restore(options.config, job);
    const serve = options.serveMetrics ?? options.config.metrics.enabled;
    server = await serveJobMetrics(serve, options.config, job.registry, job.probe, options.logger);
    return await drive(options, job, detector);
  } catch (err) {
    job.parts.dispose();
    throw err;
  } finally {
    await server?.close();
  }
}
