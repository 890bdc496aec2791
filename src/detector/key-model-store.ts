import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CheckpointError, readJsonFile, writeFileAtomic } from './checkpoint-files.js';
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
  const readable = key.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 48);
  const digest = createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);
  return `${readable}-${digest}`;
}

/** Saved per-key models in one directory, one atomic JSON file per key. */
export class KeyModelStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Path of `key`'s file. */
  pathOf(key: string): string {
    return join(this.dir, `${safeKeyName(key)}.json`);
  }

  /** Saves `state` as `key`'s model (atomic replace). */
  async save(key: string, state: OnlineDetectorState): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const doc: KeyModelDocument = { format: 'flowsentinel.key-model', version: 1, key, state };
    await writeFileAtomic(this.pathOf(key), JSON.stringify(doc));
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
  }
}
