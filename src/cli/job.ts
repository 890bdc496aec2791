import type { Registry } from 'prom-client';
import type { SchedulerLike } from 'rxjs';
import type { AppConfig } from '../config/schema.js';
import { createDetector, type DetectorParts } from '../detector/factory.js';
import { initBackend } from '../flow/backend.js';
import type { Logger } from '../logging.js';
import type { ProbeResult } from '../metrics/http.js';
import {
  createDetectorMetrics,
  createMetricsRegistry,
  type DetectorMetrics,
  type MetricsServer,
  recordBatch,
  recordDeadLetters,
  setBackendInfo,
  startMetricsServer,
} from '../metrics/index.js';
import { AckTracker } from '../streams/acks.js';
import { createFeatureSpec } from '../streams/feature-spec.js';
import {
  type BatchInfo,
  type PipelineSinks,
  type PipelineSummary,
  runPipeline,
} from '../streams/pipeline.js';
import type { RecordSource } from '../streams/source.js';
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
}

/** Outcome of a finished job. The caller owns `parts` and must `dispose()` them. */
export interface JobResult {
  readonly summary: PipelineSummary;
  readonly parts: DetectorParts;
  readonly metrics: DetectorMetrics;
  readonly registry: Registry;
  readonly elapsedMs: number;
}

/** Resolves on a later turn of the event loop, after pending I/O and signal callbacks. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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

/**
 * Runs the detector over a source until it ends or `signal` aborts: selects the tfjs backend, builds the
 * model from config, serves metrics and health, and runs the pipeline with acknowledgements. Ordered
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
  const parts = createDetector(config, {
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
  });
  let running = false;
  let finished = false;
  let server: MetricsServer | undefined;
  try {
    if (options.serveMetrics ?? config.metrics.enabled) {
      server = await startMetricsServer({
        registry,
        port: config.metrics.port,
        host: config.metrics.host,
        logger,
        readiness: () =>
          running
            ? (options.readiness?.() ?? true)
            : { ready: false, reason: finished ? 'stopped' : 'starting' },
      });
      logger.info({ port: server.port }, 'serving /metrics, /healthz, /readyz');
    }
    const handle = runPipeline({
      source: options.source,
      spec: createFeatureSpec({
        fields: [...config.features.fields],
        maxRecordBytes: config.features.maxRecordBytes,
        ...(config.features.keyField === undefined ? {} : { keyField: config.features.keyField }),
      }),
      batch: { maxSize: config.batching.maxSize, maxWaitMs: options.maxWaitMs ?? config.batching.maxWaitMs },
      detector: timed(parts.detector, metrics, now),
      sinks: options.sinks,
      acks: options.acks ?? new AckTracker(),
      highWaterMark: config.batching.highWaterMark,
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
      onBatch: (info) => {
        recordBatch(metrics, info.results, now());
        options.onBatch?.(info);
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
      return { summary, parts, metrics, registry, elapsedMs: now() - started };
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
