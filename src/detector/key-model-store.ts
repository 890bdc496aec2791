import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { InvalidOptionError } from '../errors.js';
import {
  CheckpointError,
  checkpointIoError,
  readJsonFile,
  type WriteContents,
  writeFileAtomic,
} from './checkpoint-files.js';
import type { OnlineDetectorState } from './detector-state.js';

/** JSON document of one evicted per-key model: `<checkpoint dir>/keys/<safe key>.json`. */
export interface KeyModelDocument {
  readonly format: 'flowsentinel.key-model';
  readonly version: 1;
  /** The entity key, verbatim (the file name is only a safe rendering of it). */
  readonly key: string;
  readonly state: OnlineDetectorState;
}

const documentSchema = z.looseObject({
  format: z.literal('flowsentinel.key-model'),
  version: z.literal(1),
  key: z.string(),
  state: z.unknown(),
});

/**
 * File-system safe, collision-free name for any key: the key's safe characters (at most 48) plus the
 * first 16 hex digits of its SHA-256, so `a/b` and `a_b` do not collide and names stay readable.
 */
export function safeKeyName(key: string): string {
  const readable = readablePart(key);
  const digest = createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);
  return `${readable}-${digest}`;
}

/** The readable part of `safeKeyName(key)`. */
function readablePart(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 48);
}

/** The readable part of a file name `<readable>-<16 hex>.json`. */
const readableOfName = (name: string): string => name.slice(0, -'-0123456789abcdef.json'.length);

/** Options of `KeyModelStore`. */
export interface KeyModelStoreOptions {
  /** Saved models kept at most (≥ 1); beyond it the oldest saved are deleted. Default: unbounded. */
  readonly maxSaved?: number;
  /** Saved models older than this are deleted, ms (0 = no age limit, the default). */
  readonly savedTtlMs?: number;
  /** Clock in epoch ms for save times and ages (default `Date.now`). */
  readonly now?: () => number;
  /** How file contents are written (tests inject failures such as ENOSPC). */
  readonly writeContents?: WriteContents;
}

const FILE = /^[A-Za-z0-9._-]*-[0-9a-f]{16}\.json$/;

/**
 * Saved per-key models in one directory, one atomic JSON file per key, bounded by count (`maxSaved`) and
 * age (`savedTtlMs`): the oldest saved are deleted first. An in-memory index of the files (name → save
 * time, oldest first; rebuilt from file mtimes, which are set to the save time, at `open`) answers `has`
 * without touching the disk, so unseen keys cost no I/O.
 */
export class KeyModelStore {
  readonly dir: string;
  private readonly maxSaved: number;
  private readonly ttl: number;
  private readonly now: () => number;
  private readonly write: WriteContents | undefined;
  /** File name → save time (epoch ms), in save order (oldest first). */
  private readonly index = new Map<string, number>();
  /**
   * Indexed files per readable name part: `has` hashes a key only when some file shares its readable
   * part, so a stream of cold keys costs no SHA-256 per key and batch.
   */
  private readonly readable = new Map<string, number>();
  private opened: Promise<void> | undefined;
  private made = false;

  constructor(dir: string, options: KeyModelStoreOptions = {}) {
    const { maxSaved = Number.POSITIVE_INFINITY, savedTtlMs = 0 } = options;
    if (!(maxSaved >= 1) || (Number.isFinite(maxSaved) && !Number.isInteger(maxSaved))) {
      throw new InvalidOptionError(`maxSaved must be an integer >= 1, got ${maxSaved}`);
    }
    if (!Number.isFinite(savedTtlMs) || savedTtlMs < 0) {
      throw new InvalidOptionError(
        `savedTtlMs must be a finite number >= 0 (0 = no age limit), got ${savedTtlMs}`,
      );
    }
    this.dir = dir;
    this.maxSaved = maxSaved;
    this.ttl = savedTtlMs;
    this.now = options.now ?? Date.now;
    this.write = options.writeContents;
  }

  /** Path of `key`'s file. */
  pathOf(key: string): string {
    return join(this.dir, `${safeKeyName(key)}.json`);
  }

  /** Reads the directory's file list once (idempotent) and deletes what is over the bounds. */
  open(): Promise<void> {
    this.opened ??= this.scan();
    return this.opened;
  }

  /** Whether `key` has a saved model (after `open`). */
  has(key: string): boolean {
    if (this.index.size === 0 || !this.readable.has(readablePart(key))) return false;
    return this.index.has(`${safeKeyName(key)}.json`);
  }

  /** Saved models in the index. */
  get size(): number {
    return this.index.size;
  }

  /** Saves `state` as `key`'s model (atomic replace), then deletes the oldest beyond the bounds. */
  async save(key: string, state: OnlineDetectorState): Promise<void> {
    await this.open();
    const path = this.pathOf(key);
    const doc: KeyModelDocument = { format: 'flowsentinel.key-model', version: 1, key, state };
    const at = this.now();
    try {
      if (!this.made) await mkdir(this.dir, { recursive: true });
      this.made = true;
      await writeFileAtomic(path, JSON.stringify(doc), this.write);
      await utimes(path, at / 1000, at / 1000);
    } catch (err) {
      throw checkpointIoError(`cannot save the model of key ${JSON.stringify(key)} to`, path, err);
    }
    const name = `${safeKeyName(key)}.json`;
    this.unindex(name);
    this.indexName(name, at);
    await this.prune();
  }

  /** Deletes the oldest saved models while more than `maxSaved` exist or the oldest is past `savedTtl`. */
  async prune(): Promise<void> {
    const cutoff = this.ttl > 0 ? this.now() - this.ttl : Number.NEGATIVE_INFINITY;
    for (const [name, at] of this.index) {
      if (this.index.size <= this.maxSaved && at > cutoff) break;
      this.unindex(name);
      await rm(join(this.dir, name), { force: true });
    }
  }

  /** Adds `name` (most recently saved). */
  private indexName(name: string, at: number): void {
    this.index.set(name, at);
    const r = readableOfName(name);
    this.readable.set(r, (this.readable.get(r) ?? 0) + 1);
  }

  private unindex(name: string): void {
    if (!this.index.delete(name)) return;
    const r = readableOfName(name);
    const n = (this.readable.get(r) ?? 1) - 1;
    if (n > 0) this.readable.set(r, n);
    else this.readable.delete(r);
  }

  private async scan(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw checkpointIoError('cannot list saved per-key models in', this.dir, err);
    }
    const found: [string, number][] = [];
    for (const name of names.filter((n) => FILE.test(n))) {
      const st = await stat(join(this.dir, name)).catch(() => undefined);
      if (st?.isFile()) found.push([name, st.mtimeMs]);
    }
    found.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    for (const [name, at] of found) this.indexName(name, at);
    await this.prune();
  }

  /**
   * The saved state of `key`, or undefined when there is none. A file that is unreadable, corrupt, of
   * another version or of another key is a `CheckpointError` (never silently replaced by the base model).
   */
  async load(key: string): Promise<unknown> {
    const path = this.pathOf(key);
    const what = (problem: string): string =>
      `saved model of key ${JSON.stringify(key)} in ${path} cannot be loaded: ${problem}. ` +
      `Delete the file to start this key from the base model, or run with --reset-model to start every model fresh.`;
    const raw = await readJsonFile(path, what);
    if (raw === undefined) return undefined;
    const parsed = documentSchema.safeParse(raw);
    if (!parsed.success) {
      throw new CheckpointError(
        what(`it is not a flowsentinel key-model document of version 1 (${z.prettifyError(parsed.error)})`),
        {
          context: { file: path, key },
        },
      );
    }
    if (parsed.data.key !== key) {
      throw new CheckpointError(what(`it holds the model of key ${JSON.stringify(parsed.data.key)}`), {
        context: { file: path, key },
      });
    }
    return parsed.data.state;
  }

  /** Deletes every saved model (reset). */
  async clear(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    this.index.clear();
    this.readable.clear();
    this.made = false;
  }
}
