/**
 * Issue 13 item 7: an unwritable checkpoint directory was found only at the first checkpoint; ENOENT and
 * ENOTDIR printed raw stacks; ENOSPC did not say it was the checkpoint; a `.tmp` file was left behind.
 * Now `openCheckpoints` writes a probe file at start, every failure is a one-line `CheckpointError` naming
 * the path, the errno and the fix (`retriable` for ENOSPC only), and a failed write removes its `.tmp`.
 * Errnos the test user cannot provoke for real (root ignores permissions; no tiny tmpfs) are injected
 * through the write function.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/schema.js';
import type { WriteContents } from '../../src/detector/checkpoint-files.js';
import { createDetector, type DetectorParts } from '../../src/detector/factory.js';
import { KeyModelStore } from '../../src/detector/key-model-store.js';
import { CheckpointError, openCheckpoints } from '../../src/job/checkpoint.js';
import { runCli } from '../helpers/detector-cli.js';
import { EventStream, silentLogger, smallDetectorConfig } from '../helpers/detector-data.js';

let root: string;
let dirs = 0;
const open: DetectorParts[] = [];
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowsentinel-ckpt-errors-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(() => {
  for (const p of open.splice(0)) p.dispose();
});

const config = (dir: string): AppConfig =>
  smallDetectorConfig({ checkpoint: { dir, everyEvents: 0, everyMs: 0 } });

/** A write that writes half the text, then fails with `code` (as a full disk does), from call `from` on. */
function failingWrite(code: string, from = 1): WriteContents & { calls: number } {
  const f = Object.assign(
    async (handle: Parameters<WriteContents>[0], text: string): Promise<void> => {
      f.calls++;
      if (f.calls < from) return handle.writeFile(text, 'utf8');
      await handle.writeFile(text.slice(0, text.length / 2), 'utf8');
      throw Object.assign(new Error(`${code}: simulated, write`), { code });
    },
    { calls: 0 },
  );
  return f;
}

async function openError(dir: string, write?: WriteContents): Promise<CheckpointError> {
  const err = await openCheckpoints({
    config: config(dir),
    logger: silentLogger(),
    ...(write ? { writeContents: write } : {}),
  }).then(
    () => expect.unreachable('the directory is not usable'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CheckpointError);
  const e = err as CheckpointError;
  expect(e.message).not.toContain('\n');
  return e;
}

describe('checkpoint directory errors at start-up (issue 13 item 7)', () => {
  it('ENOTDIR: a path through a file fails at open, naming the path and checkpoint.dir, not retriable', async () => {
    const file = join(root, `f${++dirs}`);
    await writeFile(file, 'x');
    const e = await openError(join(file, 'ckpt'));
    expect(e.message).toBe(
      `cannot create checkpoint directory ${join(file, 'ckpt')} (ENOTDIR): a part of the path is a file, not a directory; set checkpoint.dir (--checkpoint-dir) to a directory`,
    );
    expect(e.retriable).toBe(false);
    expect(e.context).toMatchObject({ code: 'ENOTDIR' });
  });

  it('EACCES: an unwritable directory fails at open (not at the first checkpoint), no .tmp left', async () => {
    const dir = join(root, `d${++dirs}`);
    const e = await openError(dir, failingWrite('EACCES'));
    expect(e.message).toMatch(
      new RegExp(`^cannot write to checkpoint directory ${dir} \\(EACCES\\): it is not writable`),
    );
    expect(e.message).toContain('set checkpoint.dir (--checkpoint-dir)');
    expect(e.retriable).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it('ENOENT: a vanished directory names the path and the fix, not retriable', async () => {
    const dir = join(root, `d${++dirs}`);
    const e = await openError(dir, failingWrite('ENOENT'));
    expect(e.message).toMatch(
      /\(ENOENT\): a parent directory does not exist; create it or set checkpoint\.dir/,
    );
    expect(e.retriable).toBe(false);
  });

  it('ENOSPC at start: says it is the checkpoint directory and the disk, retriable, no .tmp left', async () => {
    const dir = join(root, `d${++dirs}`);
    const e = await openError(dir, failingWrite('ENOSPC'));
    expect(e.message).toMatch(
      new RegExp(`^cannot write to checkpoint directory ${dir} \\(ENOSPC\\): the disk is full`),
    );
    expect(e.retriable).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('checkpoint write errors while running (issue 13 item 7)', () => {
  it('ENOSPC at a checkpoint: CheckpointError naming the file, retriable; the .tmp is removed', async () => {
    const dir = join(root, `d${++dirs}`);
    const write = failingWrite('ENOSPC', 2); // the start-up probe (call 1) succeeds
    const cp = await openCheckpoints({ config: config(dir), logger: silentLogger(), writeContents: write });
    const parts = createDetector(config(dir));
    open.push(parts);
    await cp.attach(parts);
    await parts.detector.process(new EventStream(1).batch(50));
    const err = await cp.finalCheckpoint().then(
      () => expect.unreachable('the disk is full'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CheckpointError);
    const e = err as CheckpointError;
    expect(e.message).toMatch(
      new RegExp(
        `^cannot write checkpoint ${join(dir, 'checkpoint-00000001.json')} \\(ENOSPC\\): the disk is full`,
      ),
    );
    expect(e.retriable).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it('ENOSPC saving an evicted per-key model: names the key file, retriable, no .tmp left', async () => {
    const dir = join(root, `d${++dirs}`);
    await mkdir(dir);
    const store = new KeyModelStore(dir, { writeContents: failingWrite('ENOSPC') });
    const err = await store.save('k1', {} as never).then(
      () => expect.unreachable('the disk is full'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).message).toMatch(
      /^cannot save the model of key "k1" to .*\(ENOSPC\): the disk is full/,
    );
    expect((err as CheckpointError).retriable).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    expect(store.has('k1')).toBe(false);
  });
});

describe('flowsentinel CLI with a bad checkpoint directory', () => {
  it('prints one line without a stack and exits 1', async () => {
    const file = join(root, `f${++dirs}`);
    await writeFile(file, 'x');
    const r = await runCli([
      'demo',
      '--events',
      '10',
      '--metrics-port',
      '0',
      '--checkpoint-dir',
      join(file, 'sub'),
    ]);
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('flowsentinel: '));
    expect(lines).toEqual([
      `flowsentinel: cannot create checkpoint directory ${join(file, 'sub')} (ENOTDIR): a part of the path is a file, not a directory; set checkpoint.dir (--checkpoint-dir) to a directory`,
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
