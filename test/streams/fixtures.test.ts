import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, writeFixtures } from '../../scripts/gen-fixtures.js';
import { decodeRecord } from '../../src/streams/decode.js';
import { createFeatureSpec } from '../../src/streams/feature-spec.js';
import { MALFORMED_HEADER } from '../../src/streams/generator-source.js';
import { parseRecordLine } from '../../src/streams/jsonl.js';

describe('scripts/gen-fixtures', () => {
  it('writes small, deterministic fixtures that decode as documented', async () => {
    const a = await mkdtemp(join(tmpdir(), 'flowsentinel-fixtures-'));
    const b = await mkdtemp(join(tmpdir(), 'flowsentinel-fixtures-'));
    try {
      const first = await writeFixtures(a);
      const second = await writeFixtures(b);
      expect(first.map((p) => basename(p))).toEqual(Object.keys(FIXTURES));
      let total = 0;
      for (const [i, path] of first.entries()) {
        const text = await readFile(path, 'utf8');
        expect(await readFile(second[i]!, 'utf8')).toBe(text);
        total += Buffer.byteLength(text);
        const options = FIXTURES[basename(path)]!;
        const spec = createFeatureSpec({
          fields: options.fields ?? ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'],
          ...(options.keyField ? { keyField: options.keyField } : {}),
          maxRecordBytes: 2048,
        });
        const lines = text.trimEnd().split('\n');
        expect(lines).toHaveLength(options.count ?? 0);
        for (const [n, line] of lines.entries()) {
          const record = parseRecordLine(line, n + 1);
          const expected = record.headers[MALFORMED_HEADER];
          const d = decodeRecord(record, spec);
          expect(d.ok ? 'ok' : d.dead.reason).toBe(
            expected === undefined ? 'ok' : new TextDecoder().decode(expected),
          );
        }
      }
      expect(total).toBeLessThan(1_000_000);
    } finally {
      await rm(a, { recursive: true, force: true });
      await rm(b, { recursive: true, force: true });
    }
  });
});
