import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AppConfig } from '../config/schema.js';
import { type DriftEvent, serializeDriftEvent } from '../detector/drift.js';
import type { Logger } from '../logging.js';
import { AckTracker } from '../streams/acks.js';
import { decodeRecord } from '../streams/decode.js';
import type { FeatureSpec } from '../streams/feature-spec.js';
import { MalformedLines, type MalformedLinesMode } from '../streams/malformed-lines.js';
import type { PipelineSummary } from '../streams/pipeline.js';
import { type ReplaySpeed, readRecordFile } from '../streams/replay-source.js';
import { JsonlFileSink, serializeDeadLetter, serializeScoredEvent } from '../streams/sinks.js';
import { iterableSource, type RecordSource } from '../streams/source.js';
import type { DeadLetter, ScoredEvent, SourceRecord } from '../streams/types.js';
import {
  type Checkpointer,
  type CheckpointPosition,
  openCheckpoints,
  type ResumePosition,
} from './checkpoint.js';
import { featureSpecOf } from './parts.js';
import { createProgress } from './progress.js';
import { type JobOptions, runDetectorJob } from './run.js';

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
  /** A line that is not a record: 'skip' (default) with a counted warning, or 'fail' (stop there). */
  readonly malformedLines?: MalformedLinesMode;
}

/** Summary of a replay; `checkpoint` is set when checkpoints are configured. */
export type ReplaySummary = PipelineSummary & {
  /** Malformed lines skipped (`--malformed-lines skip`). */
  readonly malformedLines: number;
  readonly checkpoint?: {
    /** Checkpoint the run started from. */
    readonly restored?: string;
    /** Events the restored detector had already processed. */
    readonly restoredEvents?: number;
    /** True when records up to the restored position were skipped (same input file). */
    readonly resumed: boolean;
    /** Last checkpoint written by this run. */
    readonly written?: string;
  };
};

const partitionOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

function offsets(position: readonly CheckpointPosition[]): Map<string, bigint> {
  return new Map(position.map((p) => [partitionOf(p.topic, p.partition), BigInt(p.commitOffset)]));
}

/**
 * Skips what the checkpoint had done: records before `resume.done`, and events (records that decode)
 * before `resume.processed`. Dead letters in between are emitted again, since their output may not have
 * been durable yet when the checkpoint was taken.
 */
function after(resume: ResumePosition, spec: FeatureSpec): (r: SourceRecord) => boolean {
  const done = offsets(resume.done);
  const processed = offsets(resume.processed);
  return (r) => {
    const p = partitionOf(r.topic, r.partition);
    const offset = BigInt(r.offset);
    if (offset < (done.get(p) ?? 0n)) return false;
    return !(offset < (processed.get(p) ?? 0n) && decodeRecord(r, spec).ok);
  };
}

function source(
  config: AppConfig,
  file: string,
  speed: ReplaySpeed,
  resume: ResumePosition | undefined,
  lines: MalformedLines,
): RecordSource {
  const spec = featureSpecOf(config);
  return iterableSource((signal) => {
    const { mode: malformedLines, onMalformedLine } = lines;
    const records = readRecordFile({ path: file, speed, malformedLines, onMalformedLine }, signal);
    return lines.guard(records, resume === undefined ? undefined : after(resume, spec));
  });
}

function checkpointSummary(cp: Checkpointer, resumed: boolean): ReplaySummary['checkpoint'] {
  const loaded = cp.loaded;
  return {
    ...(loaded ? { restored: loaded.file, restoredEvents: loaded.document.eventsSeen } : {}),
    resumed,
    ...(cp.lastWritten === undefined ? {} : { written: cp.lastWritten }),
  };
}

/**
 * Replays a recorded topic (JSONL, docs/recorded-format.md) through the same pipeline as production and
 * writes anomalies.jsonl, scores.jsonl and dead-letters.jsonl into `outDir`. At speed 'max' batches are
 * cut by count only, so two replays of the same file with the same config give byte-identical outputs.
 *
 * With `checkpoint.dir`, the run starts from the newest checkpoint; if that checkpoint was taken while
 * replaying the same file, records it had processed are skipped and the output files are appended to
 * (resume after a crash: events between that checkpoint and the crash are output twice).
 */
export async function runReplay(config: AppConfig, logger: Logger, o: ReplayOptions): Promise<ReplaySummary> {
  await mkdir(o.outDir, { recursive: true });
  const acks = new AckTracker();
  const checkpoints = await openCheckpoints({ config, logger, acks, source: `replay:${resolve(o.file)}` });
  const position = checkpoints.resumePosition();
  if (position !== undefined) {
    logger.info({ position, file: checkpoints.loaded?.file }, 'resuming the replay after the checkpoint');
  }
  const mode = position === undefined ? 'truncate' : 'append';
  const open = <T>(name: string, serialize: (x: T) => string) =>
    JsonlFileSink.open<T>({ path: join(o.outDir, name), serialize, mode });
  const anomalies = await open<ScoredEvent>('anomalies.jsonl', serializeScoredEvent);
  const deadLetters = await open<DeadLetter>('dead-letters.jsonl', serializeDeadLetter);
  const drift = await open<DriftEvent>('drift.jsonl', serializeDriftEvent);
  const scores =
    o.writeScores === false ? undefined : await open<ScoredEvent>('scores.jsonl', serializeScoredEvent);
  const progress = createProgress('replay', o.total ?? 0, { force: false });
  let done = 0;
  let found = 0;
  const lines = new MalformedLines(o.malformedLines ?? 'skip', o.file, logger);
  try {
    // `checkpoints` hands the opened checkpointer (and its resume position) to the job.
    const job: JobOptions & { readonly checkpoints?: Checkpointer } = {
      config,
      logger,
      source: source(config, o.file, o.speed, position, lines),
      sinks: { anomalies, deadLetters, drift, ...(scores ? { scores } : {}) },
      acks,
      checkpoints,
      serveMetrics: false,
      // At max speed batches are cut by count and every batch learns: byte-identical replays.
      ...(o.speed === 'max' ? { maxWaitMs: Number.POSITIVE_INFINITY } : { liveSource: true }),
      ...(o.signal ? { signal: o.signal } : {}),
      onBatch: (info) => {
        done += info.results.length;
        found += info.anomalies;
        if (o.total) progress.update(done, { anomalies: found });
      },
    };
    const result = await runDetectorJob(job);
    result.parts.dispose();
    // A reader failure ended the input like the end of the file: everything before it is written.
    lines.finish(result.summary.in);
    const summary = { ...result.summary, malformedLines: lines.skipped };
    if (!checkpoints.enabled) return summary;
    return { ...summary, checkpoint: checkpointSummary(checkpoints, position !== undefined) };
  } finally {
    progress.stop();
    await Promise.all([anomalies.close(), deadLetters.close(), drift.close(), scores?.close()]);
  }
}
