/** Metrics around the pipeline: in-flight gauges, batch timing, per-batch and dead-letter counters. */
import { defer } from 'rxjs';
import type { BatchDetector } from '../core/detector.js';
import type { DeadLetter, FeatureEvent, ScoredEvent } from '../core/records.js';
import type { DriftMonitor } from '../detector/drift.js';
import type { LearnBudget } from '../detector/learn-budget.js';
import type { Logger } from '../logging.js';
import {
  type DetectorMetrics,
  type JobMetrics,
  recordBatch,
  recordDeadLetters,
  recordDrift,
  recordSuppressed,
} from '../metrics/index.js';
import type { CreditGate } from '../streams/backpressure.js';
import type { BatchInfo } from '../streams/pipeline.js';
import type { RecordSource } from '../streams/source.js';

/** Resolves on a later turn of the event loop, after pending I/O and signal callbacks. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * `source` with `flowsentinel_records_in_flight` (and its peak) following the pipeline's credit gate, read
 * at each scrape (`JobMetrics.followInFlight`); `onGate` gets the gate, to read the in-flight count.
 */
export function withInFlightGauge(
  source: RecordSource,
  jobMetrics: JobMetrics,
  onGate?: (credits: CreditGate) => void,
): RecordSource {
  return {
    records: (credits) =>
      defer(() => {
        jobMetrics.followInFlight(credits);
        onGate?.(credits);
        return source.records(credits);
      }),
  };
}

/**
 * Times each batch into the batch-duration histogram. Yields to the event loop before each batch: with a
 * synchronous source (the generator) and the wasm/cpu backends a run never waits on I/O, so otherwise
 * the metrics server, the batch timer and SIGTERM/SIGINT would not be served until the source ended.
 */
export function timed(detector: BatchDetector, metrics: DetectorMetrics, now: () => number): BatchDetector {
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
 * Tells the learning budget, before each batch, how many records wait behind it: records in flight
 * (read, not yet acknowledged) minus the batch itself. Only a live source builds such a backlog; a pull
 * source at max speed always fills the gate, which is why the budget adapts only for live sources.
 */
export function reportBacklog(
  detector: BatchDetector,
  budget: Pick<LearnBudget, 'observeBacklog'>,
  inFlight: () => number,
  batchSize: number,
): BatchDetector {
  return {
    process(batch: readonly FeatureEvent[]): Promise<readonly ScoredEvent[]> {
      budget.observeBacklog(Math.max(0, inFlight() - batch.length), batchSize);
      return detector.process(batch);
    },
  };
}

/** What the per-batch bookkeeping reads. */
export interface BatchRecorderParts {
  readonly metrics: DetectorMetrics;
  readonly jobMetrics: JobMetrics;
  readonly driftMonitor: DriftMonitor | undefined;
  readonly logger: Logger;
  readonly now: () => number;
}

/** Records a finished batch in the metrics and logs its drift events. */
export function recordBatchInfo(p: BatchRecorderParts, info: BatchInfo): void {
  recordBatch(p.metrics, info.results, p.now());
  recordSuppressed(p.metrics, info.suppressed);
  p.jobMetrics.keyAnomalies.record(info.results);
  if (p.driftMonitor) recordDrift(p.metrics, p.driftMonitor.snapshot(), info.driftEvents);
  for (const e of info.driftEvents) {
    if (e.kind === 'started') p.logger.warn({ drift: e }, 'density drift confirmed');
    else p.logger.info({ drift: e }, `density drift ended (${e.reason})`);
  }
}

/** Counts a dead letter by reason. */
export function recordDeadLetter(metrics: DetectorMetrics, dead: DeadLetter): void {
  recordDeadLetters(metrics, [dead.reason]);
}
