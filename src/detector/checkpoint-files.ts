import { type FileHandle, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FlowsentinelError } from '../errors.js';

/**
 * A checkpoint (or a saved per-key model) cannot be read, written, is corrupt, or does not fit the
 * configuration. The message names the file or directory, says what is wrong and how to get out
 * (`--reset-model`, `--checkpoint` with the last good file, permissions, space). Retriable only when the
 * cause may go away by itself (ENOSPC, EDQUOT, EIO); a bad file or directory fails the same way again.
 */
export class CheckpointError extends FlowsentinelError {}

/** Errno codes of checkpoint writes that may succeed later without a config change. */
const RETRIABLE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EAGAIN', 'EBUSY']);

/** What to do about a file-system error code, for the message of a `CheckpointError`. */
function fixFor(code: string | undefined): string {
  switch (code) {
    case 'ENOENT':
      return 'a parent directory does not exist; create it or set checkpoint.dir (--checkpoint-dir) to an existing path';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a part of the path is a file, not a directory; set checkpoint.dir (--checkpoint-dir) to a directory';
    case 'EACCES':
    case 'EPERM':
      return 'it is not writable by this user; fix its permissions or set checkpoint.dir (--checkpoint-dir) to a writable directory';
    case 'EROFS':
      return 'the file system is read-only; set checkpoint.dir (--checkpoint-dir) to a writable directory';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk is full; free space on it (or lower checkpoint.keep, perKey.maxSaved) or set checkpoint.dir (--checkpoint-dir) to a larger disk';
    default:
      return 'check the directory and the disk, or set checkpoint.dir (--checkpoint-dir) to another directory';
  }
}

/**
 * A `CheckpointError` for a failed file-system call on `path` (`what`: e.g. 'cannot write checkpoint'):
 * one line naming the path, the errno and the fix; `retriable` per errno (ENOSPC yes, EACCES/ENOTDIR no).
 */
export function checkpointIoError(what: string, path: string, err: unknown): CheckpointError {
  if (err instanceof CheckpointError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return new CheckpointError(`${what} ${path} (${code ?? (err as Error).message}): ${fixFor(code)}`, {
    cause: err,
    retriable: code !== undefined && RETRIABLE_CODES.has(code),
    context: { path, code },
  });
}

/** How `writeFileAtomic` writes the temporary file's contents (injectable to simulate a full disk). */
export type WriteContents = (handle: FileHandle, text: string) => Promise<void>;

const writeContents: WriteContents = (handle, text) => handle.writeFile(text, 'utf8');

/**
 * Start-up check of a checkpoint directory: creates it and writes and removes a probe file, so an
 * unwritable, missing or full directory fails at start with a `CheckpointError`, not at the first checkpoint.
 */
export async function probeDirectory(dir: string, write: WriteContents = writeContents): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw checkpointIoError('cannot create checkpoint directory', dir, err);
  }
  const probe = join(dir, '.write-probe');
  try {
    await writeFileAtomic(probe, 'flowsentinel write probe\n', write);
  } catch (err) {
    throw checkpointIoError('cannot write to checkpoint directory', dir, err);
  }
  await rm(probe, { force: true });
}

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
 * one, never a torn file (at worst a stray `.*.tmp`, removed by `removeStaleTemps`); a failed write
 * (e.g. ENOSPC) removes its temporary file and rethrows the file-system error.
 */
export async function writeFileAtomic(
  path: string,
  text: string,
  write: WriteContents = writeContents,
): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${++tmpCounter}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    try {
      await write(handle, text);
      await handle.sync();
    } finally {
      await handle.close();
    }
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
