import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { readLineBatches, readLines, type TextLine } from '../../src/streams/line-reader.js';

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 text of `bytes`, or null when they are not valid UTF-8. */
function textOf(bytes: Buffer): string | null {
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}

/** What `readLines` must give: the bytes split at every `\n`, one `\r` before it dropped, UTF-8 checked per line. */
function reference(bytes: Buffer): TextLine[] {
  const lines: TextLine[] = [];
  let start = 0;
  let n = 0;
  for (let nl = bytes.indexOf(0x0a); nl !== -1; nl = bytes.indexOf(0x0a, start)) {
    let body = bytes.subarray(start, nl);
    if (body.length > 0 && body[body.length - 1] === 0x0d) body = body.subarray(0, -1);
    lines.push({ lineNumber: ++n, text: textOf(body), terminated: true });
    start = nl + 1;
  }
  if (start < bytes.length) {
    const body = bytes.subarray(start);
    lines.push({ lineNumber: n + 1, text: textOf(body), terminated: false });
  }
  return lines;
}

async function* chunked(bytes: Buffer, cuts: readonly number[]): AsyncGenerator<Buffer> {
  let start = 0;
  for (const cut of cuts) {
    yield bytes.subarray(start, cut);
    start = cut;
  }
  yield bytes.subarray(start);
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<TextLine[]> {
  const lines: TextLine[] = [];
  for await (const line of readLines(chunks)) lines.push(line);
  return lines;
}

const PIECES = ['a', 'é', '€', '😀', '\n', '\r\n', '\r', '', '{"x":1}', '\uFEFF'];
const BAD = [Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xe2, 0x82])];

describe('readLines', () => {
  it('gives the same lines as splitting the whole input, however it is chunked (random text, invalid bytes)', async () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 300; trial++) {
      const parts: Buffer[] = [];
      const count = Math.floor(rng.uniform() * 40);
      for (let i = 0; i < count; i++) {
        const bad = rng.uniform() < 0.08;
        parts.push(
          bad
            ? BAD[Math.floor(rng.uniform() * BAD.length)]!
            : Buffer.from(PIECES[Math.floor(rng.uniform() * PIECES.length)]!, 'utf8'),
        );
      }
      const bytes = Buffer.concat(parts);
      const cuts: number[] = [];
      for (let c = 0; c < bytes.length; c++) if (rng.uniform() < 0.2) cuts.push(c);
      expect(await collect(chunked(bytes, cuts))).toEqual(reference(bytes));
    }
  });

  it('yields the lines a chunk completes as one batch, and a cut-off last line on its own', async () => {
    const batches: (string | null)[][] = [];
    for await (const lines of readLineBatches(chunked(Buffer.from('a\nb\r\nc'), [3]))) {
      batches.push(lines.map((l) => l.text));
    }
    expect(batches).toEqual([['a'], ['b'], ['c']]);
    const whole: (string | null)[][] = [];
    for await (const lines of readLineBatches(chunked(Buffer.from('a\nb\nc\n'), []))) {
      whole.push(lines.map((l) => l.text));
    }
    expect(whole).toEqual([['a', 'b', 'c']]);
  });

  it('keeps a valid line valid next to an invalid one in the same chunk', async () => {
    const bytes = Buffer.concat([Buffer.from('ok\n'), Buffer.from([0xff]), Buffer.from('\nfine\n')]);
    expect((await collect(chunked(bytes, []))).map((l) => l.text)).toEqual(['ok', null, 'fine']);
  });
});
