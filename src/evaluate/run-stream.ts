/**
 * Runs labelled data through the production path: `runDetectorJob` (decode → micro-batch → detector →
 * alert gate → drift) with the given config, batches cut by count only (deterministic), and collects
 * every scored event in input order.
 */

import type { AppConfig } from '../config/schema.js';
import { runDetectorJob } from '../job/run.js';
import { createLogger, type Logger } from '../logging.js';
import type { BatchInfo, PipelineSummary } from '../streams/pipeline.js';
import { MemorySink } from '../streams/sinks.js';
import { iterableSource } from '../streams/source.js';
import type { DeadLetter, ScoredEvent, SourceRecord } from '../streams/types.js';

/** Outcome of one evaluated stream. */
export interface StreamRun {
  /** Detector output per input record (by offset = input index); undefined where dead-lettered. */
  readonly results: readonly (ScoredEvent | undefined)[];
  /** Input indices whose record became an alert (written to the anomalies sink). */
  readonly alerted: ReadonlySet<number>;
  readonly deadLetters: readonly DeadLetter[];
  readonly summary: PipelineSummary;
  /** Wall time of the run, ms (backend start-up and model build included). */
  readonly elapsedMs: number;
}

/** A logger that drops everything (library default). */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent', name: 'flowsentinel-evaluate' });
}

/**
 * Feeds `records` (offsets must be their indices 0…n−1 on one partition) through the detector job built
 * from `config` and returns the outputs in input order. Metrics are not served; checkpoints follow the
 * config (off unless configured).
 */
export async function runStream(
  config: AppConfig,
  records: Iterable<SourceRecord>,
  count: number,
  options: { readonly logger?: Logger; readonly onBatch?: (info: BatchInfo) => void } = {},
): Promise<StreamRun> {
  const scores = new MemorySink<ScoredEvent>();
  const anomalies = new MemorySink<ScoredEvent>();
  const deadLetters = new MemorySink<DeadLetter>();
  const job = await runDetectorJob({
    config,
    logger: options.logger ?? silentLogger(),
    source: iterableSource(() => records),
    sinks: { scores, anomalies, deadLetters },
    serveMetrics: false,
    maxWaitMs: Number.POSITIVE_INFINITY,
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
  });
  job.parts.dispose();
  const results: (ScoredEvent | undefined)[] = new Array(count).fill(undefined);
  for (const r of scores.items) results[Number(r.ref.offset)] = r;
  return {
    results,
    alerted: new Set(anomalies.items.map((r) => Number(r.ref.offset))),
    deadLetters: deadLetters.items,
    summary: job.summary,
    elapsedMs: job.elapsedMs,
  };
}

const encoder = new TextEncoder();

/** A JSON record at input index `index` (offset) on partition 0 of `topic`. */
export function jsonRecord(topic: string, index: number, timestamp: number, value: unknown): SourceRecord {
  return {
    topic,
    partition: 0,
    offset: String(index),
    timestamp,
    key: null,
    headers: {},
    value: encoder.encode(JSON.stringify(value)),
  };
}
