import { type BufferedAsyncIterator, filterUntilError } from './buffered-iterator.js';
import { RecordLineError } from './jsonl.js';
import { SourceError } from './source.js';

/** The one logger call this needs (a pino `Logger` fits): streams stay free of the logging layer. */
export interface WarningLogger {
  warn(fields: object, message: string): void;
}

/** What a replay does with a line that is not a record: stop there, or skip it with a warning. */
export type MalformedLinesMode = 'fail' | 'skip';

/** Skipped lines logged one by one; after that they are only counted (and summed up at the end). */
const LOGGED_LINES = 10;

/**
 * Policy for malformed lines of one replay (`--malformed-lines`). In 'skip' mode it counts and logs the
 * skipped lines (`onMalformedLine`) and logs a summary line at the end. In both modes `guard` turns an
 * error of the reader into the end of input, so the records before it are processed and written like at
 * the end of the file; `finish` then rethrows it with what was done.
 */
export class MalformedLines {
  readonly mode: MalformedLinesMode;
  private skippedCount = 0;
  private failure: { readonly error: unknown } | undefined;

  constructor(
    mode: MalformedLinesMode,
    private readonly file: string,
    private readonly logger: WarningLogger,
  ) {
    this.mode = mode;
  }

  /** Lines skipped so far. */
  get skipped(): number {
    return this.skippedCount;
  }

  /** The `onMalformedLine` callback of `readRecordFile` (called in 'skip' mode only). */
  readonly onMalformedLine = (error: RecordLineError): void => {
    this.skippedCount += 1;
    if (this.skippedCount > LOGGED_LINES) return;
    const more = this.skippedCount === LOGGED_LINES ? '; further ones are counted, not logged' : '';
    this.logger.warn(
      { file: this.file, line: error.lineNumber, skipped: this.skippedCount, reason: error.message },
      `malformed line skipped (${this.skippedCount} so far)${more}`,
    );
  };

  /**
   * `records` (those `keep` accepts, when given) until the reader fails; the failure is kept for
   * `finish`. Buffered where `records` is, so a replay file's records still come without a promise each.
   */
  guard<T>(records: AsyncIterable<T>, keep?: (record: T) => boolean): BufferedAsyncIterator<T> {
    return filterUntilError(records, keep, (error) => {
      this.failure = { error };
    });
  }

  /**
   * Call after the pipeline drained. Logs the summary line of skipped lines; throws the reader's failure,
   * if any, as a `SourceError` that says how many records before it were processed (`recordsRead`).
   */
  finish(recordsRead: number): void {
    if (this.skippedCount > 0) {
      this.logger.warn(
        { file: this.file, skipped: this.skippedCount },
        `skipped ${this.skippedCount} malformed line${this.skippedCount === 1 ? '' : 's'} of ${this.file}`,
      );
    }
    if (this.failure === undefined) return;
    const { error } = this.failure;
    // Nothing was read (e.g. the file cannot be opened): the reader's own error says it all.
    if (recordsRead === 0 && !(error instanceof RecordLineError)) throw error;
    const what = error instanceof Error ? error.message : String(error);
    const hint =
      error instanceof RecordLineError
        ? ' (--malformed-lines fail; --malformed-lines skip skips such lines)'
        : '';
    throw new SourceError(
      `replay of ${this.file} stopped: ${what}${hint}. The ${recordsRead} records before it were processed and their outputs written.`,
      {
        cause: error,
        context: {
          file: this.file,
          recordsRead,
          ...(error instanceof RecordLineError ? { lineNumber: error.lineNumber } : {}),
        },
      },
    );
  }
}
