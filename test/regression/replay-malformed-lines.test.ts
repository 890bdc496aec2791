/**
 * Regression (issue 13, item 5): a bad base64 value, an invalid JSON line or a truncated last line stopped
 * the whole replay with exit 1, and the valid records before it (188 in the report) were never written:
 * they sat in the unfinished micro-batch when the source errored. The CLI never passed `malformedLines`,
 * and invalid UTF-8 was silently replaced with U+FFFD.
 *
 * Now `--malformed-lines skip` (the default) skips such lines with a counted warning and a summary line,
 * `fail` stops at the line after processing and writing every record before it, and a line that is not
 * valid UTF-8 is one of these malformed lines.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigOverrides, loadConfig } from '../../src/config/load.js';
import type { AppConfig } from '../../src/config/schema.js';
import { runReplay } from '../../src/job/replay.js';
import { createLogger } from '../../src/logging.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import { encodeRecordLine } from '../../src/streams/jsonl.js';
import { SourceError } from '../../src/streams/source.js';
import { runCli } from '../helpers/detector-cli.js';
import { FIXTURE_FIELDS, testBackend } from '../helpers/detector-fixtures.js';

const BEFORE = 188;
const AFTER = 12;
const good = [
  ...generateRecords({ seed: 9, count: BEFORE + AFTER, fields: FIXTURE_FIELDS, anomalyRate: 0 }),
].map((r) => Buffer.from(encodeRecordLine(r)));

/** Broken variants of the line after the first 188 records. */
function badBase64(): Buffer {
  const line = JSON.parse(good[BEFORE]!.toString()) as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ ...line, value: 'not*base64', valueEncoding: 'base64' }));
}
function notUtf8(): Buffer {
  const text = good[BEFORE]!.toString();
  const at = text.indexOf('"topic":"') + '"topic":"'.length;
  return Buffer.concat([
    Buffer.from(text.slice(0, at)),
    Buffer.from([0xff, 0xfe]),
    Buffer.from(text.slice(at)),
  ]);
}
const KINDS: Readonly<Record<string, { line: () => Buffer; message: RegExp }>> = {
  'invalid JSON': { line: () => Buffer.from('{"topic": "t", '), message: /line 189: not valid JSON/ },
  'bad base64': { line: badBase64, message: /line 189: value is not canonical base64/ },
  'invalid UTF-8': { line: notUtf8, message: /line 189: not valid UTF-8/ },
};

const OVERRIDES: ConfigOverrides = {
  backend: testBackend(),
  features: { fields: [...FIXTURE_FIELDS] },
  model: { type: 'realnvp', layers: 2, hidden: 8, seed: 1 },
  training: { stepsPerBatch: 1, batchSize: 64 },
  warmup: { events: 50 },
  threshold: { policy: 'quantile', quantile: 0.01, window: 1000 },
  batching: { maxSize: 64 },
  drift: { enabled: false },
  metrics: { enabled: false },
};

let dir: string;
let config: AppConfig;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowsentinel-malformed-'));
  config = loadConfig({ env: {}, overrides: OVERRIDES });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, parts: readonly Buffer[], trailingNewline = true): Promise<string> {
  const path = join(dir, name);
  const nl = Buffer.from('\n');
  const body = parts.flatMap((p, i) => (i < parts.length - 1 || trailingNewline ? [p, nl] : [p]));
  await writeFile(path, Buffer.concat(body));
  return path;
}

/** A logger whose JSON lines are collected. */
function collectingLogger(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: createLogger({ level: 'warn', destination }), lines };
}

async function scoredOffsets(outDir: string): Promise<string[]> {
  const text = await readFile(join(outDir, 'scores.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { offset: string }).offset);
}

const offsets = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => String(from + i));

describe('replay with malformed lines (issue 13)', () => {
  it.each(Object.keys(KINDS))(
    'fail mode: stops at a line with %s and writes every record before it',
    async (kind) => {
      const k = KINDS[kind]!;
      const input = await write(`${kind}.jsonl`, [
        ...good.slice(0, BEFORE),
        k.line(),
        ...good.slice(BEFORE + 1),
      ]);
      const outDir = join(dir, `out-fail-${kind}`);
      const run = runReplay(config, collectingLogger().logger, {
        file: input,
        outDir,
        speed: 'max',
        malformedLines: 'fail',
      });
      await expect(run).rejects.toBeInstanceOf(SourceError);
      await expect(run).rejects.toThrow(k.message);
      await expect(run).rejects.toThrow(/The 188 records before it were processed and their outputs written/);
      expect(await scoredOffsets(outDir)).toEqual(offsets(0, BEFORE));
    },
  );

  it('fail mode: a truncated last line says so, and the records before it are written', async () => {
    const cut = good[BEFORE]!.subarray(0, 50);
    const input = await write('truncated.jsonl', [...good.slice(0, BEFORE), cut], false);
    const outDir = join(dir, 'out-truncated');
    const run = runReplay(config, collectingLogger().logger, {
      file: input,
      outDir,
      speed: 'max',
      malformedLines: 'fail',
    });
    await expect(run).rejects.toThrow(/line 189: not valid JSON .*the file looks truncated/);
    expect(await scoredOffsets(outDir)).toEqual(offsets(0, BEFORE));
  });

  it('skip mode (the default): skips every kind with a counted warning and a summary line', async () => {
    const parts = [
      ...good.slice(0, 50),
      KINDS['invalid JSON']!.line(),
      ...good.slice(50, 100),
      badBase64(),
      ...good.slice(100, BEFORE),
      notUtf8(),
      ...good.slice(BEFORE + 1),
      good[BEFORE]!.subarray(0, 50),
    ];
    const input = await write('mixed.jsonl', parts, false);
    const outDir = join(dir, 'out-skip');
    const { logger, lines } = collectingLogger();
    const summary = await runReplay(config, logger, { file: input, outDir, speed: 'max' });
    expect(summary.malformedLines).toBe(4);
    expect(summary.in).toBe(BEFORE + AFTER - 1);
    expect(await scoredOffsets(outDir)).toEqual([
      ...offsets(0, BEFORE),
      ...offsets(BEFORE + 1, BEFORE + AFTER),
    ]);
    const skipped = lines.filter((l) => /^malformed line skipped/.test(String(l.msg)));
    expect(skipped.map((l) => [l.line, l.skipped])).toEqual([
      [51, 1],
      [102, 2],
      [191, 3],
      [203, 4],
    ]);
    expect(lines.at(-1)).toMatchObject({ msg: `skipped 4 malformed lines of ${input}`, skipped: 4 });
  });
});

describe('flowsentinel replay --malformed-lines (CLI from source)', () => {
  it('skips by default (exit 0, counted in the summary) and stops with exit 1 under fail', async () => {
    const input = await write('cli.jsonl', [
      ...good.slice(0, BEFORE),
      Buffer.from('not json'),
      ...good.slice(BEFORE + 1),
    ]);
    const cfg = join(dir, 'cli.json');
    await writeFile(cfg, JSON.stringify(OVERRIDES));
    const ok = await runCli(['replay', input, '-c', cfg, '-o', join(dir, 'cli-skip')]);
    expect(ok.stderr).not.toMatch(/flowsentinel: /);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout.trim())).toMatchObject({ malformedLines: 1, in: BEFORE + AFTER - 1 });
    const failed = await runCli([
      'replay',
      input,
      '-c',
      cfg,
      '-o',
      join(dir, 'cli-fail'),
      '--malformed-lines',
      'fail',
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^flowsentinel: replay of .*cli\.jsonl stopped: line 189: not valid JSON/m);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    expect(await scoredOffsets(join(dir, 'cli-fail'))).toEqual(offsets(0, BEFORE));
    const bad = await runCli(['replay', input, '-c', cfg, '--malformed-lines', 'ignore']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--malformed-lines.*ignore.*fail, skip/);
  });
});
