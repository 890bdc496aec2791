/**
 * Writes the small, seeded recorded-topic fixtures to test/fixtures (or the directory given as the first
 * argument). Same generator code → byte-identical files.
 *
 *   npx tsx scripts/gen-fixtures.ts [outDir]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type GeneratorOptions, generateRecords } from '../src/streams/generator-source.js';
import { encodeRecordLine } from '../src/streams/jsonl.js';

/**
 * The fixtures and the options that produce them. Decode `anomalies-malformed.jsonl` with
 * `fields: ['http.bytes', 'http.latencyMs', 'cpu', 'mem'], keyField: 'host', maxRecordBytes: 2048` so its
 * oversize records (4096 bytes) are dead-lettered; the others use the default fields f0…f5.
 */
export const FIXTURES: Readonly<Record<string, GeneratorOptions>> = {
  'clean.jsonl': { seed: 1, count: 500, anomalyRate: 0 },
  'anomalies-malformed.jsonl': {
    seed: 2,
    count: 1200,
    fields: ['http.bytes', 'http.latencyMs', 'cpu', 'mem'],
    keyField: 'host',
    partitions: 3,
    anomalyRate: 0.02,
    malformedRate: 0.04,
    oversizeBytes: 4096,
  },
  'drift.jsonl': {
    seed: 3,
    count: 1000,
    anomalyRate: 0.01,
    drift: { startIndex: 500, endIndex: 800, shiftSigma: 3, rampEvents: 50 },
  },
};

/** Writes every fixture into `outDir`; returns the written paths. */
export async function writeFixtures(outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const [name, options] of Object.entries(FIXTURES)) {
    const lines = Array.from(generateRecords(options), encodeRecordLine);
    const path = join(outDir, name);
    await writeFile(path, `${lines.join('\n')}\n`);
    written.push(path);
  }
  return written;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2] ?? join(fileURLToPath(new URL('..', import.meta.url)), 'test', 'fixtures');
  const paths = await writeFixtures(outDir);
  for (const path of paths) process.stdout.write(`wrote ${path}\n`);
}
