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
 * Appends the lines of `block` (whole lines, each ended by a `\n` that `block` leaves out, so k newlines
 * inside mean k + 1 lines) to `out`, numbered after `lineNumber`; returns the last number used. A block
 * that is valid UTF-8 is decoded once and split as text: a `\n` byte never occurs inside a multi-byte
 * character, so this gives the same lines as splitting the bytes, and each line is valid UTF-8 because
 * the block is. Otherwise each line is checked on its own, so only the invalid ones are null.
 */
function blockLines(block: Buffer, lineNumber: number, out: TextLine[]): number {
  let n = lineNumber;
  if (isUtf8(block)) {
    for (const part of block.toString('utf8').split('\n')) {
      const text = part.endsWith('\r') ? part.slice(0, -1) : part;
      out.push({ lineNumber: ++n, text, terminated: true });
    }
    return n;
  }
  let start = 0;
  for (let nl = block.indexOf(NEWLINE, start); nl !== -1; nl = block.indexOf(NEWLINE, start)) {
    out.push(toLine(block.subarray(start, nl), ++n, true));
    start = nl + 1;
  }
  out.push(toLine(block.subarray(start), ++n, true));
  return n;
}

/**
 * Splits a byte stream into lines at `\n` (`\r\n` too), checking UTF-8 instead of replacing invalid
 * bytes with U+FFFD as a decoding stream would; yields the lines each chunk completes, as one array (one
 * decode and one `await` per chunk rather than per line). Holds one partial line at a time, so memory is
 * bounded by the chunk and the longest line, not the file.
 */
export async function* readLineBatches(
  chunks: AsyncIterable<Buffer | string>,
): AsyncGenerator<readonly TextLine[]> {
  let pending: Buffer[] = [];
  let lineNumber = 0;
  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const last = bytes.lastIndexOf(NEWLINE);
    if (last === -1) {
      if (bytes.length > 0) pending.push(bytes);
      continue;
    }
    const lines: TextLine[] = [];
    let start = 0;
    if (pending.length > 0) {
      const nl = bytes.indexOf(NEWLINE);
      pending.push(bytes.subarray(0, nl));
      lines.push(toLine(Buffer.concat(pending), ++lineNumber, true));
      pending = [];
      start = nl + 1;
    }
    if (start <= last) lineNumber = blockLines(bytes.subarray(start, last), lineNumber, lines);
    if (last + 1 < bytes.length) pending.push(bytes.subarray(last + 1));
    yield lines;
  }
  if (pending.length > 0) yield [toLine(Buffer.concat(pending), lineNumber + 1, false)];
}

/** `readLineBatches` one line at a time. */
export async function* readLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<TextLine> {
  for await (const lines of readLineBatches(chunks)) yield* lines;
}
