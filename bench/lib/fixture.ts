import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { type GeneratorOptions, generateRecords } from '../../src/streams/generator-source.js';
import { encodeRecordLine } from '../../src/streams/jsonl.js';

/**
 * Writes the seeded generator's records to `path` as a recorded-topic JSONL file, streaming (memory does
 * not grow with `count`). Resolves with the number of lines written.
 */
export async function writeGeneratedFixture(path: string, options: GeneratorOptions): Promise<number> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  let lines = 0;
  try {
    for (const record of generateRecords(options)) {
      if (!out.write(`${encodeRecordLine(record)}\n`)) await once(out, 'drain');
      lines++;
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return lines;
}
