import { open } from 'node:fs/promises';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { InvalidOptionError } from '../errors.js';
import { parseRecordLine, RecordLineError } from './jsonl.js';
import { readLineBatches, type TextLine } from './line-reader.js';
import { iterableSource, type RecordSource, SourceError } from './source.js';
import type { SourceRecord } from './types.js';

/** 'recorded': the pace of the records' timestamps; 'max': as fast as credits allow; n: n× recorded pace. */
export type ReplaySpeed = 'recorded' | 'max' | number;

/** Options of `replaySource`. */
export interface ReplaySourceOptions {
  /** A recorded-topic JSONL file (docs/recorded-format.md). */
  readonly path: string;
  /** Default 'max'. */
  readonly speed?: ReplaySpeed;
  /** Clock and timers for pacing; default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** 'fail' (default): a malformed line errors the source with `RecordLineError`; 'skip': drop it. */
  readonly malformedLines?: 'fail' | 'skip';
  /** Called for each skipped malformed line (e.g. to log it). */
  readonly onMalformedLine?: (error: RecordLineError) => void;
}

type Pacer = (timestamp: number, signal: AbortSignal) => Promise<void>;

const noPacing: Pacer = () => Promise.resolve();

/**
 * Waits until `(timestamp - first timestamp) / factor` ms have passed on the scheduler's clock since the
 * first record. Targets are absolute, so waits do not accumulate drift, and a source stalled by
 * backpressure catches up rather than falling further behind. Out-of-order timestamps do not wait.
 */
function createPacer(speed: ReplaySpeed, scheduler: SchedulerLike): Pacer {
  if (speed === 'max') return noPacing;
  const factor = speed === 'recorded' ? 1 : speed;
  let anchor: { readonly wall: number; readonly event: number } | null = null;
  return (timestamp, signal) => {
    if (anchor === null) {
      anchor = { wall: scheduler.now(), event: timestamp };
      return Promise.resolve();
    }
    const delay = anchor.wall + (timestamp - anchor.event) / factor - scheduler.now();
    if (!(delay > 0) || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const onAbort = (): void => {
        timer.unsubscribe();
        resolve();
      };
      const timer = scheduler.schedule(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, delay);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  };
}

function validate(options: ReplaySourceOptions): void {
  const { speed = 'max', malformedLines = 'fail' } = options;
  if (typeof options.path !== 'string' || options.path.length === 0) {
    throw new InvalidOptionError('path must name a recorded-topic JSONL file');
  }
  const okSpeed =
    speed === 'max' ||
    speed === 'recorded' ||
    (typeof speed === 'number' && speed > 0 && Number.isFinite(speed));
  if (!okSpeed) {
    throw new InvalidOptionError(
      `speed must be 'recorded', 'max' or a finite factor > 0, got ${String(speed)}`,
      {
        context: { speed },
      },
    );
  }
  if (malformedLines !== 'fail' && malformedLines !== 'skip') {
    throw new InvalidOptionError(`malformedLines must be 'fail' or 'skip', got ${String(malformedLines)}`);
  }
}

/**
 * Streams the records of a recorded-topic file line by line (`readLineBatches` over a file stream, so memory
 * does not grow with file size), pacing them as `speed` says. Blank lines are ignored; a leading BOM is
 * stripped. A line that is not valid UTF-8 is malformed (never decoded with replacement characters); so
 * is a cut-off last line, which the error says. Stops reading and closes the file when `signal` aborts or the consumer stops iterating.
 */
export async function* readRecordFile(
  options: ReplaySourceOptions,
  signal: AbortSignal = new AbortController().signal,
): AsyncGenerator<SourceRecord> {
  validate(options);
  const pace = createPacer(options.speed ?? 'max', options.scheduler ?? asyncScheduler);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(options.path, 'r');
  } catch (err) {
    throw new SourceError(`cannot open replay file ${options.path}: ${(err as Error).message}`, {
      cause: err,
      context: { path: options.path },
    });
  }
  const stream = handle.createReadStream();
  try {
    for await (const lines of readLineBatches(stream)) {
      for (const line of lines) {
        const record = parseOrSkip(line, options);
        if (record === null) continue;
        if (pace !== noPacing) await pace(record.timestamp, signal);
        if (signal.aborted) return;
        yield record;
      }
    }
  } catch (err) {
    if (err instanceof RecordLineError) throw err;
    throw new SourceError(`cannot read replay file ${options.path}: ${(err as Error).message}`, {
      cause: err,
      context: { path: options.path },
    });
  } finally {
    stream.destroy();
    await handle.close().catch(() => undefined);
  }
}

/** The record on `line`, or null for a blank line or a malformed one that is skipped. */
function parseOrSkip(line: TextLine, options: ReplaySourceOptions): SourceRecord | null {
  try {
    return parseLine(line);
  } catch (err) {
    if (!(err instanceof RecordLineError) || options.malformedLines !== 'skip') throw err;
    options.onMalformedLine?.(err);
    return null;
  }
}

function parseLine({ text, lineNumber, terminated }: TextLine): SourceRecord | null {
  if (text === null) {
    throw new RecordLineError(
      'not valid UTF-8 (a recording is UTF-8 text; bytes go in base64 fields)',
      lineNumber,
    );
  }
  const line = lineNumber === 1 ? text.replace(/^\uFEFF/, '') : text;
  if (line.trim().length === 0) return null;
  try {
    return parseRecordLine(line, lineNumber);
  } catch (err) {
    // A cut-off last line is invalid JSON (the cause is JSON.parse's SyntaxError) without a newline.
    if (terminated || !(err instanceof RecordLineError) || !(err.cause instanceof SyntaxError)) throw err;
    throw new RecordLineError(
      `${err.message.replace(/^line \d+: /, '')}; it is the last line and has no newline: the file looks truncated`,
      lineNumber,
      err,
    );
  }
}

/**
 * Replays a recorded-topic JSONL file as a credit-driven `RecordSource`: a line is read only when a credit
 * is available, so at most `highWaterMark` records (plus readline's small line buffer) are held in memory
 * regardless of file size or speed. Options are validated when the source is created.
 */
export function replaySource(options: ReplaySourceOptions): RecordSource {
  validate(options);
  return iterableSource((signal) => readRecordFile(options, signal));
}
