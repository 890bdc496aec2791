import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FlowsentinelError } from '../errors.js';

/**
 * A checkpoint (or a saved per-key model) cannot be read, is corrupt, or does not fit the configuration.
 * The message names the file, says what is wrong and how to get out (`--reset-model`, or `--checkpoint`
 * with the last good file). Never retriable: restarting with the same files fails the same way.
 */
export class CheckpointError extends FlowsentinelError {}

/** File name pattern of checkpoints: `checkpoint-<seq>.json`. */
const CHECKPOINT_FILE = /^checkpoint-(\d+)\.json$/;

/** A checkpoint file in a directory. */
export interface CheckpointFile {
  readonly sequence: number;
  readonly path: string;
}

/** `checkpoint-<seq>.json` with the sequence zero-padded to 8 digits, so names sort like numbers. */
export function checkpointFileName(sequence: number): string {
  return `checkpoint-${String(sequence).padStart(8, '0')}.json`;
}

/** Checkpoint files in `dir`, oldest (lowest sequence) first; [] if the directory does not exist. */
export async function listCheckpoints(dir: string): Promise<CheckpointFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CheckpointError(`cannot list checkpoint directory ${dir}: ${(err as Error).message}`, {
      cause: err,
      context: { dir },
    });
  }
  const out: CheckpointFile[] = [];
  for (const name of names) {
    const m = CHECKPOINT_FILE.exec(name);
    if (m?.[1] !== undefined) out.push({ sequence: Number(m[1]), path: join(dir, name) });
  }
  return out.sort((a, b) => a.sequence - b.sequence);
}

let tmpCounter = 0;

/**
 * Writes `text` to `path` atomically: a temporary file in the same directory is written and fsynced,
 * then renamed over `path`, then the directory is fsynced. A crash leaves either the old file or the new
 * one, never a torn file (at worst a stray `.*.tmp`, removed by `removeStaleTemps`).
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${++tmpCounter}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDirectory(dir);
}

/** fsync of a directory, so a rename survives a power loss; not supported everywhere (ignored then). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows cannot open or fsync directories; the rename itself is still atomic.
  } finally {
    await handle?.close();
  }
}

/** Removes temporary files a crashed `writeFileAtomic` left in `dir`. */
export async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((n) => n.startsWith('.') && n.endsWith('.tmp'))
      .map((n) => rm(join(dir, n), { force: true })),
  );
}

/** Reads and parses a JSON file; `undefined` if it does not exist. Other failures are `CheckpointError`s. */
export async function readJsonFile(path: string, what: (problem: string) => string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CheckpointError(what(`it cannot be read (${(err as Error).message})`), {
      cause: err,
      context: { file: path },
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CheckpointError(what('it is not valid JSON (truncated or corrupt)'), {
      cause: err,
      context: { file: path },
    });
  }
}
