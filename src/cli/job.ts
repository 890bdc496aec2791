import type { Registry } from 'prom-client';
import { Observable, type SchedulerLike } from 'rxjs';
import type { AppConfig } from '../config/schema.js';
import { type Checkpointer, openCheckpoints } from '../detector/checkpoint.js';
import { DriftMonitor } from '../detector/drift.js';
import { createDetector, type DetectorParts } from '../detector/factory.js';
import { AlertSuppressor } from '../detector/suppression.js';
import { initBackend } from '../flow/backend.js';
import type { Logger } from '../logging.js';
import { recordDrift, recordSuppressed, setDriftLevel } from '../metrics/families.js';
import type { ProbeResult } from '../metrics/http.js';
import {
  createDetectorMetrics,
  createJobMetrics,
  createMetricsRegistry,
  type DetectorMetrics,
  type JobMetrics,
  type MetricsServer,
  recordBatch,
  recordDeadLetters,
  setBackendInfo,
  startMetricsServer,
} from '../metrics/index.js';
import { AckTracker } from '../streams/acks.js';
import { deadLetterRejectedOutputs } from '../streams/dead-letter-on-reject.js';
import { createFeatureSpec } from '../streams/feature-spec.js';
import {
  type BatchInfo,
  type PipelineSinks,
  type PipelineSummary,
  runPipeline,
} from '../streams/pipeline.js';
import type { RecordSource } from '../streams/source.js';
import {
  TimeSeriesDetector,
  TimeSeriesFeaturizer,
  timeSeriesOptionsFromConfig,
} from '../streams/timeseries.js';
import type { BatchDetector, DeadLetter, FeatureEvent, ScoredEvent } from '../streams/types.js';

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

/** The drift monitor of `config.drift`, or undefined when disabled. */
export function createDriftMonitor(config: AppConfig): DriftMonitor | undefined {
  const d = config.drift;
  if (!d.enabled) return undefined;
  return new DriftMonitor({
    window: d.window,
    referenceEvents: d.referenceEvents,
    level: d.level,
    forMs: d.forMs,
    afterConfirmed: d.afterConfirmed,
  });
}

/** The alert suppressor of `config.suppression`, or undefined when disabled. */
export function createAlertSuppressor(config: AppConfig): AlertSuppressor | undefined {
  const s = config.suppression;
  if (!s.enabled) return undefined;
  return new AlertSuppressor({
    mode: s.mode,
    quietMs: s.quietMs,
    minIntervalMs: s.minIntervalMs,
    maxKeys: s.maxKeys,
  });
}

/** Resolves on a later turn of the event loop, after pending I/O and signal callbacks. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `source` with `flowsentinel_records_in_flight` following the pipeline's credit gate. */
function withInFlightGauge(source: RecordSource, jobMetrics: JobMetrics): RecordSource {
  return {
    records: (credits) =>
      new Observable((subscriber) => {
        let peak = 0;
        // Not unsubscribed with the source: records are still acknowledged (released) after the source
        // completes, and the subscription lives as long as the gate, i.e. the pipeline.
        credits.inFlight$.subscribe((n) => {
          jobMetrics.inFlight.set(n);
          if (n > peak) {
            peak = n;
            jobMetrics.inFlightPeak.set(n);
          }
        });
        return source.records(credits).subscribe(subscriber);
      }),
  };
}

/**
 * Times each batch into the batch-duration histogram. Yields to the event loop before each batch: with a
 * synchronous source (the generator) and the wasm/cpu backends a run never waits on I/O, so otherwise
 * the metrics server, the batch timer and SIGTERM/SIGINT would not be served until the source ended.
 */
function timed(detector: BatchDetector, metrics: DetectorMetrics, now: () => number): BatchDetector {
  return {
    async process(batch: readonly FeatureEvent[]): Promise<readonly ScoredEvent[]> {
      await yieldToEventLoop();
      const t0 = now();
      const out = await detector.process(batch);
      metrics.batchDuration.observe((now() - t0) / 1000);
      return out;
    },
  };
}

/** The job's sinks, with permanently rejected outputs dead-lettered when `outputRejection` is given. */
function outputSinks(options: JobOptions, metrics: DetectorMetrics, logger: Logger): PipelineSinks {
  if (options.outputRejection === undefined) return options.sinks;
  return deadLetterRejectedOutputs(options.sinks, options.outputRejection, (dead) => {
    recordDeadLetters(metrics, [dead.reason]);
    const { topic, partition, offset } = dead.record;
    logger.warn({ topic, partition, offset, detail: dead.detail }, 'output rejected; dead-lettered');
    options.onDeadLetter?.(dead);
  });
}

/**
 * Runs the detector over a source until it ends or `signal` aborts: selects the tfjs backend, builds the
 * model from config, serves metrics and health, and runs the pipeline with acknowledgements, alert
 * suppression (`suppression.*`) and drift detection (`drift.*`; drift events go to `sinks.drift`). Ordered
 * shutdown: stop reading → drain in-flight batches → close the metrics server. Sinks stay open: the
 * caller flushes/commits/closes them afterwards.
 */
export async function runDetectorJob(options: JobOptions): Promise<JobResult> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const started = now();
  const backend = await initBackend(config.backend, logger);
  const registry = options.registry ?? createMetricsRegistry();
  const metrics = createDetectorMetrics(registry);
  setBackendInfo(metrics, backend.name);
  const acks = options.acks ?? new AckTracker();
  const checkpoints = options.checkpoints ?? (await openCheckpoints({ config, logger, acks }));
  const parts = createDetector(
    config,
    {
      onTrainStep: (r) => {
        if (r.skipped) metrics.trainingStepsSkipped.inc({ reason: 'non_finite' });
        else {
          metrics.trainingSteps.inc();
          metrics.trainingLoss.set(r.loss);
        }
      },
      onBatchScored: (b) => {
        if (Number.isFinite(b.threshold))
          metrics.threshold.set({ policy: config.threshold.policy }, b.threshold);
      },
    },
    { registry },
  );
  const driftMonitor = options.driftMonitor ?? createDriftMonitor(config);
  const suppressor = options.suppressor ?? createAlertSuppressor(config);
  let running = false;
  let finished = false;
  let server: MetricsServer | undefined;
  const readiness = (): ProbeResult =>
    running ? (options.readiness?.() ?? true) : { ready: false, reason: finished ? 'stopped' : 'starting' };
  const jobMetrics = createJobMetrics(registry, {
    highWaterMark: config.batching.highWaterMark,
    ready: () => {
      const r = readiness();
      return typeof r === 'boolean' ? r : r.ready;
    },
  });
  if (driftMonitor) setDriftLevel(metrics, config.drift.level);
  try {
    await checkpoints.attach(parts);
    if (driftMonitor) checkpoints.register('drift', driftMonitor);
    if (suppressor) checkpoints.register('suppression', suppressor);
    // Univariate time-series mode: vectors are built per micro-batch from each key's recent values, so the
    // featurizer's state always matches what the model has seen and is checkpointed with it.
    const seriesOptions = timeSeriesOptionsFromConfig(config);
    const featurizer = seriesOptions ? new TimeSeriesFeaturizer(seriesOptions) : undefined;
    if (featurizer) checkpoints.register('timeseries', featurizer);
    const detector = featurizer ? new TimeSeriesDetector(featurizer, parts.detector) : parts.detector;
    if (options.serveMetrics ?? config.metrics.enabled) {
      server = await startMetricsServer({
        registry,
        port: config.metrics.port,
        host: config.metrics.host,
        logger,
        readiness,
      });
      logger.info({ port: server.port }, 'serving /metrics, /healthz, /readyz');
    }
    const handle = runPipeline({
      source: withInFlightGauge(options.source, jobMetrics),
      spec: createFeatureSpec({
        fields: [...config.features.fields],
        maxRecordBytes: config.features.maxRecordBytes,
        maxKeyBytes: config.features.maxKeyBytes,
        ...(config.features.keyField === undefined ? {} : { keyField: config.features.keyField }),
      }),
      batch: { maxSize: config.batching.maxSize, maxWaitMs: options.maxWaitMs ?? config.batching.maxWaitMs },
      detector: timed(detector, metrics, now),
      sinks: outputSinks(options, metrics, logger),
      ...(suppressor ? { alertGate: suppressor } : {}),
      ...(driftMonitor ? { drift: driftMonitor } : {}),
      acks,
      highWaterMark: config.batching.highWaterMark,
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
      onBatch: async (info) => {
        recordBatch(metrics, info.results, now());
        recordSuppressed(metrics, info.suppressed);
        jobMetrics.keyAnomalies.record(info.results);
        if (driftMonitor) recordDrift(metrics, driftMonitor.snapshot(), info.driftEvents);
        for (const e of info.driftEvents) {
          if (e.kind === 'started') logger.warn({ drift: e }, 'density drift confirmed');
          else logger.info({ drift: e }, `density drift ended (${e.reason})`);
        }
        options.onBatch?.(info);
        if (await checkpoints.maybeCheckpoint(info)) jobMetrics.checkpoints.inc();
      },
      onDeadLetter: (dead) => {
        recordDeadLetters(metrics, [dead.reason]);
        options.onDeadLetter?.(dead);
      },
    });
    running = true;
    const onAbort = (): void => {
      logger.info('stop requested: draining in-flight batches');
      handle.stop().catch(() => undefined); // the outcome is reported through `done`
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const summary = await handle.done;
      if ((await checkpoints.finalCheckpoint()) !== undefined) jobMetrics.checkpoints.inc();
      return { summary, parts, metrics, registry, elapsedMs: now() - started, driftMonitor, suppressor };
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      running = false;
      finished = true;
    }
  } catch (err) {
    parts.dispose();
    throw err;
  } finally {
    await server?.close();
  }
}
