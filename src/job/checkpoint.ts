import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { checkpointDir } from '../config/checkpoint-dir.js';
import type { AppConfig } from '../config/schema.js';
import type { FeatureEvent } from '../core/records.js';
import {
  CheckpointError,
  checkpointFileName,
  checkpointIoError,
  listCheckpoints,
  probeDirectory,
  removeStaleTemps,
  type WriteContents,
  writeFileAtomic,
} from '../detector/checkpoint-files.js';
import type { DetectorParts } from '../detector/factory.js';
import { KeyModelStore } from '../detector/key-model-store.js';
import type { Logger } from '../logging.js';
import type { AckTracker } from '../streams/acks.js';
import { type CheckpointDocument, type CheckpointPosition, fingerprintOf } from './checkpoint-document.js';
import { loadCheckpoint, loadMessage } from './checkpoint-load.js';

export { checkpointDir } from '../config/checkpoint-dir.js';
export { CheckpointError } from '../detector/checkpoint-files.js';
export type { CheckpointDocument, CheckpointPosition } from './checkpoint-document.js';
export { loadCheckpoint } from './checkpoint-load.js';

/** A component whose state rides along in checkpoints under `extensions[name]`, as opaque JSON. */
export interface CheckpointExtension {
  getState(): unknown;
  /** Restores `getState` output; throw on state it cannot take. */
  setState(state: unknown): void;
}

/** Options of `openCheckpoints`. */
export interface OpenCheckpointsOptions {
  readonly config: AppConfig;
  readonly logger: Logger;
  /** The run's ack tracker: its committable positions are saved as the input position. */
  readonly acks?: AckTracker;
  /** Identifies the input the position refers to (e.g. `replay:<absolute path>`). */
  readonly source?: string;
  /** Wall clock in ms, for `checkpoint.everyMs` (default `Date.now`). */
  readonly now?: () => number;
  /** How checkpoint files' contents are written (tests inject failures such as ENOSPC). */
  readonly writeContents?: WriteContents;
}

/** The checkpoint a run started from. */
export interface LoadedCheckpoint {
  readonly file: string;
  readonly document: CheckpointDocument;
}

const positionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Where a restarted replay continues (see `Checkpointer.resumePosition`). */
export interface ResumePosition {
  /** Records before these offsets are done (outputs durable): skip them. */
  readonly done: readonly CheckpointPosition[];
  /** Events before these offsets are in the model already: skip them too, but re-emit dead letters. */
  readonly processed: readonly CheckpointPosition[];
}

/** Raises `map`'s offset for the position's partition to `commitOffset` if that is higher. */
function advance(map: Map<string, CheckpointPosition>, p: CheckpointPosition): void {
  const key = positionKey(p.topic, p.partition);
  const had = map.get(key);
  if (had === undefined || BigInt(p.commitOffset) > BigInt(had.commitOffset)) map.set(key, p);
}

/**
 * Opens the checkpoint directory of `config`: creates it and writes a probe file (so an unwritable, missing
 * or full directory is a `CheckpointError` now, not at the first checkpoint), removes stray temporary files
 * and loads the newest
 * checkpoint (or `checkpoint.file`; nothing with `checkpoint.reset`, which also deletes `<dir>/keys`).
 * Throws `CheckpointError` when the checkpoint is unreadable, corrupt, of another version or does not fit
 * the config, naming the way out. Apply it with `attach(parts)`.
 */
export async function openCheckpoints(o: OpenCheckpointsOptions): Promise<Checkpointer> {
  const { config, logger } = o;
  const dir = checkpointDir(config);
  if (dir === undefined) {
    if (config.perKey.enabled) {
      logger.warn('perKey is enabled without checkpoint.dir: evicted per-key models are discarded');
    }
    return new Checkpointer(o, undefined, undefined, 1);
  }
  await probeDirectory(dir, o.writeContents);
  await removeStaleTemps(dir);
  const files = await listCheckpoints(dir);
  const next = (files.at(-1)?.sequence ?? 0) + 1;
  if (config.checkpoint.reset) {
    await new KeyModelStore(join(dir, 'keys')).clear();
    logger.warn({ dir, ignored: files.length }, 'reset: starting fresh, existing checkpoints are ignored');
    return new Checkpointer(o, dir, undefined, next);
  }
  const target = config.checkpoint.file ?? files.at(-1)?.path;
  if (target === undefined) {
    logger.info({ dir }, 'no checkpoint yet: starting fresh');
    return new Checkpointer(o, dir, undefined, next);
  }
  const document = await loadCheckpoint(target, config, files.map((f) => f.path).reverse());
  logger.info(
    { file: target, sequence: document.sequence, eventsSeen: document.eventsSeen },
    'loaded checkpoint',
  );
  return new Checkpointer(o, dir, { file: target, document }, Math.max(next, document.sequence + 1));
}

/**
 * Writes checkpoints of a running detector: every `checkpoint.everyEvents` events (at the first batch
 * boundary past each multiple, so replays checkpoint at the same points) and/or every `everyMs` of wall
 * time, and once more at shutdown; keeps the newest `checkpoint.keep`. A disabled checkpointer (no
 * directory) does nothing. Call `maybeCheckpoint` only between batches (after a batch's outputs are
 * durable), never while the detector is processing.
 */
export class Checkpointer {
  /** The checkpoint this run started from, if any. */
  readonly loaded: LoadedCheckpoint | undefined;
  private readonly o: OpenCheckpointsOptions;
  private readonly dir: string | undefined;
  private readonly now: () => number;
  private readonly extensions = new Map<string, CheckpointExtension>();
  private readonly position = new Map<string, CheckpointPosition>();
  private readonly processed = new Map<string, CheckpointPosition>();
  private parts: DetectorParts | undefined;
  private sequence: number;
  private lastEvents = 0;
  private lastWriteMs: number;
  private createdAt: number | null = null;
  private warnedOrphans = false;
  private written: string | undefined;

  constructor(
    o: OpenCheckpointsOptions,
    dir: string | undefined,
    loaded: LoadedCheckpoint | undefined,
    sequence: number,
  ) {
    this.o = o;
    this.dir = dir;
    this.loaded = loaded;
    this.sequence = sequence;
    this.now = o.now ?? Date.now;
    this.lastWriteMs = this.now();
    for (const p of loaded?.document.position ?? []) advance(this.position, p);
    for (const p of loaded?.document.processed ?? []) advance(this.processed, p);
  }

  /** The last checkpoint file this checkpointer wrote. */
  get lastWritten(): string | undefined {
    return this.written;
  }

  /** True when checkpoints are written (a directory is configured). */
  get enabled(): boolean {
    return this.dir !== undefined;
  }

  /**
   * Input position of the loaded checkpoint, when it was taken from the same source (`source` option).
   * Undefined otherwise (start at the beginning).
   */
  resumePosition(): ResumePosition | undefined {
    const doc = this.loaded?.document;
    if (doc === undefined || doc.source === null || doc.source !== this.o.source) return undefined;
    return { done: doc.position, processed: doc.processed };
  }

  /** Restores the loaded checkpoint (if any) into `parts`; throws `CheckpointError` if it does not fit. */
  async attach(parts: DetectorParts): Promise<void> {
    this.parts = parts;
    const loaded = this.loaded;
    if (loaded === undefined) return;
    const doc = loaded.document;
    try {
      parts.global.setState(doc.detector);
      if (parts.keyed) await parts.keyed.setState(doc.keys);
    } catch (err) {
      if (err instanceof CheckpointError) throw err;
      throw new CheckpointError(
        loadMessage(loaded.file, `its state does not fit: ${(err as Error).message}`, undefined),
        { cause: err, context: { file: loaded.file } },
      );
    }
    this.lastEvents = doc.eventsSeen;
    this.createdAt = doc.createdAt;
  }

  /**
   * Adds a component whose state is saved under `extensions[name]`, and restores it from the loaded
   * checkpoint when that holds it (a checkpoint without it leaves the component fresh).
   */
  register(name: string, extension: CheckpointExtension): void {
    this.extensions.set(name, extension);
    const loaded = this.loaded;
    if (loaded === undefined) return;
    if (!Object.hasOwn(loaded.document.extensions, name)) {
      this.o.logger.info({ extension: name }, 'the loaded checkpoint has no state for this component');
      return;
    }
    try {
      extension.setState(loaded.document.extensions[name]);
    } catch (err) {
      throw new CheckpointError(
        loadMessage(loaded.file, `its "${name}" state does not fit: ${(err as Error).message}`, undefined),
        { cause: err, context: { file: loaded.file, extension: name } },
      );
    }
  }

  /**
   * Writes a checkpoint when one is due. Call after each batch's outputs are durable, with the batch:
   * its events advance `createdAt` (event time) and the processed position. Resolves true when it wrote.
   */
  async maybeCheckpoint(batch?: { readonly events: readonly FeatureEvent[] }): Promise<boolean> {
    const parts = this.parts;
    if (this.dir === undefined || parts === undefined) return false;
    this.track(batch?.events ?? []);
    const seen = parts.detector.eventsSeen;
    const { everyEvents, everyMs } = this.o.config.checkpoint;
    const byCount =
      everyEvents > 0 && Math.floor(seen / everyEvents) > Math.floor(this.lastEvents / everyEvents);
    const byTime = everyMs > 0 && seen !== this.lastEvents && this.now() - this.lastWriteMs >= everyMs;
    if (!byCount && !byTime) return false;
    await this.write();
    return true;
  }

  /** Advances `createdAt` and the processed position over a batch's events. */
  private track(events: readonly FeatureEvent[]): void {
    const seen = new Set<string>();
    // Events of a partition arrive in offset order, so its last event in the batch is its newest.
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i]!;
      if (this.createdAt === null || e.timestamp > this.createdAt) this.createdAt = e.timestamp;
      const { topic, partition, offset } = e.ref;
      const key = positionKey(topic, partition);
      if (seen.has(key)) continue;
      seen.add(key);
      advance(this.processed, { topic, partition, commitOffset: (BigInt(offset) + 1n).toString() });
    }
  }

  /** Writes a last checkpoint if anything was processed since the previous one (call after draining). */
  async finalCheckpoint(): Promise<string | undefined> {
    const parts = this.parts;
    if (this.dir === undefined || parts === undefined) return undefined;
    if (parts.detector.eventsSeen === this.lastEvents) return undefined;
    return this.write();
  }

  /** The checkpoint document of the current state (synchronous snapshot). */
  snapshot(): CheckpointDocument {
    const parts = this.parts;
    if (parts === undefined) throw new CheckpointError('snapshot() needs attach(parts) first');
    for (const p of this.o.acks?.committable() ?? []) {
      advance(this.position, { topic: p.topic, partition: p.partition, commitOffset: p.commitOffset });
    }
    const extensions: Record<string, unknown> = {};
    for (const [name, ext] of this.extensions) extensions[name] = ext.getState();
    this.warnOrphans();
    return {
      format: 'flowsentinel.checkpoint',
      version: 1,
      sequence: this.sequence,
      createdAt: this.createdAt,
      writtenAt: new Date(this.now()).toISOString(),
      eventsSeen: parts.detector.eventsSeen,
      source: this.o.source ?? null,
      position: [...this.position.values()],
      processed: [...this.processed.values()],
      fingerprint: fingerprintOf(this.o.config),
      detector: parts.global.getState(),
      keys: parts.keyed ? parts.keyed.getState() : null,
      extensions,
    };
  }

  private async write(): Promise<string> {
    const dir = this.dir as string;
    const started = this.now();
    const doc = this.snapshot();
    const file = join(dir, checkpointFileName(doc.sequence));
    try {
      await writeFileAtomic(file, JSON.stringify(doc), this.o.writeContents);
    } catch (err) {
      throw checkpointIoError('cannot write checkpoint', file, err);
    }
    this.sequence = doc.sequence + 1;
    this.lastEvents = doc.eventsSeen;
    this.lastWriteMs = this.now();
    this.written = file;
    await this.prune(dir);
    this.o.logger.info(
      { file, eventsSeen: doc.eventsSeen, ms: this.lastWriteMs - started },
      'checkpoint written',
    );
    return file;
  }

  /** Deletes all but the newest `checkpoint.keep` checkpoints. */
  private async prune(dir: string): Promise<void> {
    const files = await listCheckpoints(dir);
    const old = files.slice(0, Math.max(0, files.length - this.o.config.checkpoint.keep));
    await Promise.all(old.map((f) => rm(f.path, { force: true })));
  }

  private warnOrphans(): void {
    if (this.warnedOrphans || this.loaded === undefined) return;
    this.warnedOrphans = true;
    const orphans = Object.keys(this.loaded.document.extensions).filter((n) => !this.extensions.has(n));
    if (orphans.length > 0) {
      this.o.logger.warn(
        { extensions: orphans },
        'checkpoint state of components not running now is dropped',
      );
    }
  }
}
