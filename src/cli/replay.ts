import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppConfig } from '../config/schema.js';
import type { Logger } from '../logging.js';
import type { PipelineSummary } from '../streams/pipeline.js';
import { type ReplaySpeed, replaySource } from '../streams/replay-source.js';
import { JsonlFileSink, serializeDeadLetter, serializeScoredEvent } from '../streams/sinks.js';
import type { DeadLetter, ScoredEvent } from '../streams/types.js';
import { runDetectorJob } from './job.js';
import { createProgress } from './progress.js';

/** Options of `runReplay`. */
export interface ReplayOptions {
  readonly file: string;
  readonly outDir: string;
  readonly speed: ReplaySpeed;
  /** Write every scored event to scores.jsonl (default true). */
  readonly writeScores?: boolean;
  readonly signal?: AbortSignal;
  /** Expected record count, for the progress bar (optional). */
  readonly total?: number;
}

/**
 * Replays a recorded topic (JSONL, docs/recorded-format.md) through the same pipeline as production and
 * writes anomalies.jsonl, scores.jsonl and dead-letters.jsonl into `outDir`. At speed 'max' batches are
 * cut by count only, so two replays of the same file with the same config give byte-identical outputs.
 */
export async function runReplay(config: AppConfig, logger: Logger, o: ReplayOptions): Promise<PipelineSummary> {
  await mkdir(o.outDir, { recursive: true });
  const open = <T>(name: string, serialize: (x: T) => string) =>
    JsonlFileSink.open<T>({ path: join(o.outDir, name), serialize, mode: 'truncate' });
  const anomalies = await open<ScoredEvent>('anomalies.jsonl', serializeScoredEvent);
  const deadLetters = await open<DeadLetter>('dead-letters.jsonl', serializeDeadLetter);
  const scores = o.writeScores === false ? undefined : await open<ScoredEvent>('scores.jsonl', serializeScoredEvent);
  const progress = createProgress('replay', o.total ?? 0, { force: false });
  let done = 0;
  let found = 0;
  try {
    const result = await runDetectorJob({
      config,
      logger,
      source: replaySource({ path: o.file, speed: o.speed }),
      sinks: { anomalies, deadLetters, ...(scores ? { scores } : {}) },
      serveMetrics: false,
      ...(o.speed === 'max' ? { maxWaitMs: Number.POSITIVE_INFINITY } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      onBatch: (info) => {
        done += info.results.length;
        found += info.anomalies;
        if (o.total) progress.update(done, { anomalies: found });
      },
    });
    result.parts.dispose();
    return result.summary;
  } finally {
    progress.stop();
    await Promise.all([anomalies.close(), deadLetters.close(), scores?.close()]);
  }
}
