import { open } from 'node:fs/promises';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { InvalidOptionError } from '../errors.js';
import type { BufferedAsyncIterator } from './buffered-iterator.js';
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

/** `err` as thrown by the reader: a malformed line as is, anything else as a `SourceError` naming the file. */
function readError(err: unknown, path: string): unknown {
  // SourceError: the file could not be opened (`open` says so itself).
  if (err instanceof RecordLineError || err instanceof SourceError) return err;
  return new SourceError(`cannot read replay file ${path}: ${(err as Error).message}`, {
    cause: err,
    context: { path },
  });
}

/** Bytes read from the file at a time. */
const READ_CHUNK_BYTES = 1 << 20;

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined });

/**
 * `readRecordFile`'s iterator. Lines are read a chunk at a time (`readLineBatches`) but parsed one at a
 * time, when asked for, so an error or a skipped line's callback comes exactly where the line-by-line
 * generator this replaces raised it; at speed max the records of a chunk are handed out synchronously
 * by `tryNext`.
 */
class RecordFileIterator implements BufferedAsyncIterator<SourceRecord> {
  private pace: Pacer = noPacing;
  private chunks: AsyncGenerator<readonly TextLine[]> | null = null;
  private closeFile: (() => Promise<void>) | null = null;
  private lines: readonly TextLine[] = [];
  private at = 0;
  private finished = false;

  constructor(
    private readonly options: ReplaySourceOptions,
    private readonly signal: AbortSignal,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  tryNext(): IteratorResult<SourceRecord> | undefined {
    if (this.finished) return DONE;
    if (this.chunks === null || this.pace !== noPacing) return undefined;
    let record: SourceRecord | undefined;
    try {
      record = this.parseBuffered();
    } catch (err) {
      this.end().catch(() => undefined);
      throw readError(err, this.options.path);
    }
    if (record === undefined) return undefined;
    if (this.signal.aborted) {
      this.end().catch(() => undefined);
      return DONE;
    }
    return { done: false, value: record };
  }

  async next(): Promise<IteratorResult<SourceRecord>> {
    if (this.finished) return DONE;
    // Options are checked at the first pull, as the async generator this replaces did.
    if (this.chunks === null) this.start();
    try {
      for (;;) {
        const record = this.parseBuffered();
        if (record !== undefined) {
          if (this.pace !== noPacing) await this.pace(record.timestamp, this.signal);
          if (this.signal.aborted) return await this.end();
          return { done: false, value: record };
        }
        const chunk = await (this.chunks ?? (await this.open())).next();
        if (chunk.done === true) return await this.end();
        this.lines = chunk.value;
        this.at = 0;
      }
    } catch (err) {
      await this.end();
      throw readError(err, this.options.path);
    }
  }

  async return(): Promise<IteratorResult<SourceRecord>> {
    return this.end();
  }

  private start(): void {
    try {
      validate(this.options);
    } catch (err) {
      this.finished = true;
      throw err;
    }
    this.pace = createPacer(this.options.speed ?? 'max', this.options.scheduler ?? asyncScheduler);
  }

  /** The next record of the current chunk; undefined when the chunk has none left. Throws on a bad line. */
  private parseBuffered(): SourceRecord | undefined {
    while (this.at < this.lines.length) {
      const record = parseOrSkip(this.lines[this.at++]!, this.options);
      if (record !== null) return record;
    }
    return undefined;
  }

  private async open(): Promise<AsyncGenerator<readonly TextLine[]>> {
    const { path } = this.options;
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw new SourceError(`cannot open replay file ${path}: ${(err as Error).message}`, {
        cause: err,
        context: { path },
      });
    }
    const stream = handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES });
    this.chunks = readLineBatches(stream);
    this.closeFile = async () => {
      stream.destroy();
      await handle.close().catch(() => undefined);
    };
    return this.chunks;
  }

  private async end(): Promise<IteratorResult<SourceRecord>> {
    this.finished = true;
    this.lines = [];
    const close = this.closeFile;
    this.closeFile = null;
    if (close !== null) await close();
    return DONE;
  }
}

/**
 * Streams the records of a recorded-topic file line by line (`readLineBatches` over a file stream, so memory
 * does not grow with file size), pacing them as `speed` says. Blank lines are ignored; a leading BOM is
 * stripped. A line that is not valid UTF-8 is malformed (never decoded with replacement characters); so
 * is a cut-off last line, which the error says. Stops reading and closes the file when `signal` aborts or
 * the consumer stops iterating. Buffered (`BufferedAsyncIterator`): at speed max, records of a chunk
 * already read are handed out without a promise each. Options are validated at the first `next()`.
 */
export function readRecordFile(
  options: ReplaySourceOptions,
  signal: AbortSignal = new AbortController().signal,
): BufferedAsyncIterator<SourceRecord> {
  return new RecordFileIterator(options, signal);
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
