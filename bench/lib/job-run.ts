import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { tap } from 'rxjs';
import type { AppConfig } from '../../src/config/index.js';
import * as tf from '../../src/flow/tf.js';
import { runDetectorJob } from '../../src/job/run.js';
import { createLogger } from '../../src/logging.js';
import { replaySource } from '../../src/streams/replay-source.js';
import { JsonlFileSink, serializeDeadLetter, serializeScoredEvent } from '../../src/streams/sinks.js';
import type { RecordSource } from '../../src/streams/source.js';
import type { DeadLetter, RecordRef, ScoredEvent } from '../../src/streams/types.js';
import { clockMs } from './timing.js';

const logger = createLogger({ level: 'warn', destination: process.stderr });

/** Measurements of one full-pipeline run over a replay file. */
export interface JobRunResult {
  readonly events: number;
  readonly batches: number;
  readonly anomalies: number;
  /** Events per wall second, first read to last acknowledgement. */
  readonly eventsPerSecond: number;
  /** Events per second of this process's CPU time over the whole job (steadier on a shared machine). */
  readonly eventsPerCpuSecond: number;
  /** Per-event read → acknowledged latency, ms, ascending. */
  readonly latencies: Float64Array;
  readonly maxInFlight: number;
  readonly backend: string;
}

/**
 * Read times of records not yet acknowledged, by partition and numeric offset (the bench's replay files
 * hold one topic). Numbers, not a string per record, so the harness costs the measured job little.
 */
class ReadTimes {
  private readonly byPartition: Map<number, number>[] = [];

  set(ref: RecordRef, t: number): void {
    let m = this.byPartition[ref.partition];
    if (m === undefined) {
      m = new Map();
      this.byPartition[ref.partition] = m;
    }
    m.set(Number(ref.offset), t);
  }

  /** The read time of `ref`, forgotten once taken; undefined when it was not stamped. */
  take(ref: RecordRef): number | undefined {
    const m = this.byPartition[ref.partition];
    const offset = Number(ref.offset);
    const t = m?.get(offset);
    if (t !== undefined) m!.delete(offset);
    return t;
  }
}

/** `source` with the wall time at which each record is emitted recorded into `readAt`. */
function stampedSource(source: RecordSource, readAt: ReadTimes): RecordSource {
  return {
    records: (credits) => source.records(credits).pipe(tap((r) => readAt.set(r, performance.now()))),
  };
}

/**
 * Runs `runDetectorJob` once over the recorded-topic JSONL `file` at maximum replay speed; anomalies and
 * dead letters are written as JSONL files into `dir`, no scores sink, no metrics server.
 */
export async function runJobOnce(config: AppConfig, file: string, dir: string): Promise<JobRunResult> {
  const anomalies = await JsonlFileSink.open<ScoredEvent>({
    path: join(dir, 'anomalies.jsonl'),
    serialize: serializeScoredEvent,
    mode: 'truncate',
  });
  const deadLetters = await JsonlFileSink.open<DeadLetter>({
    path: join(dir, 'dead-letters.jsonl'),
    serialize: serializeDeadLetter,
    mode: 'truncate',
  });
  const readAt = new ReadTimes();
  const latencies: number[] = [];
  let firstRead = Number.POSITIVE_INFINITY;
  let lastAck = 0;
  const cpu0 = clockMs('cpu');
  try {
    const result = await runDetectorJob({
      config,
      logger,
      source: stampedSource(replaySource({ path: file, speed: 'max' }), readAt),
      sinks: { anomalies, deadLetters },
      serveMetrics: false,
      onBatch: (info) => {
        const now = performance.now();
        for (const e of info.events) {
          const t = readAt.take(e.ref);
          if (t === undefined) continue;
          if (t < firstRead) firstRead = t;
          latencies.push(now - t);
        }
        lastAck = now;
      },
    });
    const cpuMs = clockMs('cpu') - cpu0;
    result.parts.dispose();
    return {
      events: result.summary.scored + result.summary.warming,
      batches: result.summary.batches,
      anomalies: result.summary.anomalies,
      eventsPerSecond: (latencies.length * 1000) / (lastAck - firstRead),
      eventsPerCpuSecond: (latencies.length * 1000) / cpuMs,
      latencies: Float64Array.from(latencies).sort(),
      maxInFlight: result.summary.maxInFlight,
      backend: tf.getBackend(),
    };
  } finally {
    await Promise.all([anomalies.close(), deadLetters.close()]);
  }
}
