import { isUtf8 } from 'node:buffer';

/** One line of a text file. */
export interface TextLine {
  /** 1-based. */
  readonly lineNumber: number;
  /** The line without its `\n` (and a `\r` before it); null when its bytes are not valid UTF-8. */
  readonly text: string | null;
  /** False for a last line without a trailing newline (possibly cut off). */
  readonly terminated: boolean;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

function toLine(bytes: Buffer, lineNumber: number, terminated: boolean): TextLine {
  const end =
    terminated && bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
  const body = bytes.subarray(0, end);
  return { lineNumber, text: isUtf8(body) ? body.toString('utf8') : null, terminated };
}

/**
 * Splits a byte stream into lines at `\n` (`\r\n` too), checking each line's UTF-8 instead of replacing
 * invalid bytes with U+FFFD as a decoding stream would. Holds one partial line at a time, so memory is
 * bounded by the longest line, not the file.
 */
export async function* readLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<TextLine> {
  let pending: Buffer[] = [];
  let lineNumber = 0;
  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (let nl = bytes.indexOf(NEWLINE, start); nl !== -1; nl = bytes.indexOf(NEWLINE, start)) {
      const part = bytes.subarray(start, nl);
      const line = pending.length === 0 ? part : Buffer.concat([...pending, part]);
      pending = [];
      lineNumber += 1;
      yield toLine(line, lineNumber, true);
      start = nl + 1;
    }
    if (start < bytes.length) pending.push(bytes.subarray(start));
  }
  if (pending.length > 0) yield toLine(Buffer.concat(pending), lineNumber + 1, false);
}
