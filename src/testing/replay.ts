/** `replayRecording`: a recording through the real job pipeline, in memory, for tests. */
import { type ConfigOverrides, loadConfig } from '../config/load.js';
import type { AppConfig } from '../config/schema.js';
import type { DriftEvent } from '../core/drift.js';
import type { DeadLetter, ScoredEvent, SourceRecord } from '../core/records.js';
import { runDetectorJob } from '../job/run.js';
import { createLogger, type Logger } from '../logging.js';
import { MalformedLines, type MalformedLinesMode } from '../streams/malformed-lines.js';
import type { PipelineSummary } from '../streams/pipeline.js';
import { readRecordFile } from '../streams/replay-source.js';
import { MemorySink } from '../streams/sinks.js';
import { iterableSource, type RecordSource } from '../streams/source.js';

/** What `replayRecording` reads: a JSONL recording's path, or records (e.g. from `recordOf`). */
export type Recording = string | Iterable<SourceRecord> | AsyncIterable<SourceRecord>;

/** Options of `replayRecording`. */
export interface ReplayRecordingOptions {
  /** Logger of the job; default silent. */
  readonly logger?: Logger;
  /**
   * Environment whose FLOWSENTINEL_* variables override the config; default none (`{}`), so a test
   * gives the same result whatever the shell exports. Pass `process.env` to honour them.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A line of a recording file that is not a record: 'fail' (default: reject) or 'skip' (count it). */
  readonly malformedLines?: MalformedLinesMode;
  /** Aborting stops reading; what was read is still scored and returned. */
  readonly signal?: AbortSignal;
}

/** Summary of a replay: the pipeline counts, plus the malformed lines skipped. */
export type RecordingSummary = PipelineSummary & { readonly malformedLines: number };

/** Everything a replay produced, in output order. */
export interface ReplayResult {
  /** Alerts: the anomalies the alert suppression let through (all anomalies when it is disabled). */
  readonly anomalies: ScoredEvent[];
  /** Every scored event, warm-up ('warming') events included. */
  readonly scores: ScoredEvent[];
  /** Records that did not decode into features, with the reason. */
  readonly deadLetters: DeadLetter[];
  /** Drift events (none when `drift.enabled` is false). */
  readonly drift: DriftEvent[];
  readonly summary: RecordingSummary;
}

type ReadonlyDeep<T> = T extends readonly (infer U)[]
  ? readonly ReadonlyDeep<U>[]
  : T extends object
    ? { readonly [K in keyof T]: ReadonlyDeep<T[K]> }
    : T;

/**
 * Any part of the config object, e.g. `{ features: { fields: ['cpu'] } }`; defaults fill the rest. Readonly,
 * so `as const` objects and a whole `AppConfig` from `loadConfig` fit too.
 */
export type PartialConfig = ReadonlyDeep<ConfigOverrides>;

/** The config: a YAML/JSON file path, or a (partial) config object. */
export type RecordingConfig = string | PartialConfig;

function configOf(config: RecordingConfig, env: ReplayRecordingOptions['env']): AppConfig {
  const environment = env ?? {};
  if (typeof config === 'string') return loadConfig({ file: config, env: environment });
  // loadConfig copies the overrides before validating, so the caller's (readonly) object is left as is.
  return loadConfig({ env: environment, overrides: config as ConfigOverrides });
}

function sourceOf(recording: Recording, lines: MalformedLines): RecordSource {
  if (typeof recording !== 'string') return iterableSource(() => recording);
  return iterableSource((signal) => {
    const { mode: malformedLines, onMalformedLine } = lines;
    return lines.guard(
      readRecordFile({ path: recording, speed: 'max', malformedLines, onMalformedLine }, signal),
    );
  });
}

/**
 * Runs a recording through the same job as `flowsentinel replay` (decode → micro-batches → detector →
 * alert suppression → drift), at max speed with batches cut by count only, so the same recording and
 * config always give the same result. Serves no metrics and logs nothing by default. Throws
 * `ConfigError` on an invalid config; rejects with the reader's error on an unreadable file.
 */
export async function replayRecording(
  recording: Recording,
  config: RecordingConfig,
  options: ReplayRecordingOptions = {},
): Promise<ReplayResult> {
  const appConfig = configOf(config, options.env);
  const logger = options.logger ?? createLogger({ level: 'silent' });
  const label = typeof recording === 'string' ? recording : 'in-memory recording';
  const lines = new MalformedLines(options.malformedLines ?? 'fail', label, logger);
  const sinks = {
    anomalies: new MemorySink<ScoredEvent>(),
    scores: new MemorySink<ScoredEvent>(),
    deadLetters: new MemorySink<DeadLetter>(),
    drift: new MemorySink<DriftEvent>(),
  };
  const result = await runDetectorJob({
    config: appConfig,
    logger,
    source: sourceOf(recording, lines),
    sinks,
    serveMetrics: false,
    maxWaitMs: Number.POSITIVE_INFINITY,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  result.parts.dispose();
  lines.finish(result.summary.in);
  return {
    anomalies: sinks.anomalies.items,
    scores: sinks.scores.items,
    deadLetters: sinks.deadLetters.items,
    drift: sinks.drift.items,
    summary: { ...result.summary, malformedLines: lines.skipped },
  };
}
