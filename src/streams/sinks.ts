import { writeSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { FlowsentinelError } from '../errors.js';
import { toRecordLine } from './jsonl.js';
import type { DeadLetter, ScoredEvent, Sink } from './types.js';

/** A sink could not accept output. `retriable` is set for transient OS conditions (EAGAIN, ENOSPC, …). */
export class SinkError extends FlowsentinelError {}

const TRANSIENT_CODES = new Set(['EAGAIN', 'EBUSY', 'EINTR', 'EMFILE', 'ENFILE', 'ENOSPC']);

function sinkError(message: string, err: unknown, path: string): SinkError {
  const code = (err as { code?: unknown } | null)?.code;
  return new SinkError(`${message}: ${err instanceof Error ? err.message : String(err)}`, {
    cause: err,
    retriable: typeof code === 'string' && TRANSIENT_CODES.has(code),
    context: { path, code },
  });
}

/** Options of `JsonlFileSink.open`. */
export interface JsonlFileSinkOptions<T> {
  readonly path: string;
  /** One JSON document per item, without newlines (e.g. `serializeScoredEvent`). */
  readonly serialize: (item: T) => string;
  /** 'append' (default) keeps existing lines; 'truncate' starts an empty file. */
  readonly mode?: 'append' | 'truncate';
}

/**
 * Appends one JSON line per item to a file. Writes are serialised in call order; `write` resolves once
 * the OS has accepted the bytes (the fs write completed — not fsync'd, so a power loss can still lose
 * them, a process crash cannot). No user-space buffering, so `close` only waits for pending writes. The
 * bytes are written with `writeSync` from the promise chain (see `writeAll`): a slow disk blocks the event
 * loop for that write.
 */
export class JsonlFileSink<T> implements Sink<T> {
  readonly path: string;
  private readonly handle: FileHandle;
  private readonly serialize: (item: T) => string;
  private tail: Promise<void> = Promise.resolve();
  private closing: Promise<void> | null = null;
  private written = 0;

  private constructor(path: string, handle: FileHandle, serialize: (item: T) => string) {
    this.path = path;
    this.handle = handle;
    this.serialize = serialize;
  }

  /** Opens (creating if needed) the file. Throws `SinkError` when it cannot be opened. */
  static async open<T>(options: JsonlFileSinkOptions<T>): Promise<JsonlFileSink<T>> {
    try {
      const handle = await open(options.path, options.mode === 'truncate' ? 'w' : 'a');
      return new JsonlFileSink(options.path, handle, options.serialize);
    } catch (err) {
      throw sinkError(`cannot open sink file ${options.path}`, err, options.path);
    }
  }

  /** Bytes handed to the OS so far. */
  get bytesWritten(): number {
    return this.written;
  }

  write(items: readonly T[]): Promise<void> {
    if (this.closing !== null) return Promise.reject(new SinkError(`sink ${this.path} is closed`));
    let data: Buffer;
    try {
      data = Buffer.from(items.map((item) => this.line(item)).join(''), 'utf8');
    } catch (err) {
      return Promise.reject(err);
    }
    const run = this.tail.then(() => this.writeAll(data));
    // Keep the chain alive after a failure; the failed call itself still rejects.
    this.tail = run.catch(() => undefined);
    return run;
  }

  close(): Promise<void> {
    this.closing ??= this.tail.then(() =>
      this.handle.close().catch((err: unknown) => {
        throw sinkError(`cannot close sink file ${this.path}`, err, this.path);
      }),
    );
    return this.closing;
  }

  private line(item: T): string {
    const text = this.serialize(item);
    if (text.includes('\n')) throw new SinkError(`serializer produced a newline for sink ${this.path}`);
    return `${text}\n`;
  }

  /**
   * Synchronous writes, in the promise chain: a write of a batch's lines to a regular file takes
   * microseconds, while handing it to libuv's thread pool woke a thread per write, which on a job pinned
   * to one core cost more than the write (issue 14, fourth round).
   */
  private writeAll(data: Buffer): void {
    let offset = 0;
    try {
      while (offset < data.length) {
        const bytesWritten = writeSync(this.handle.fd, data, offset, data.length - offset);
        offset += bytesWritten;
        this.written += bytesWritten;
      }
    } catch (err) {
      throw sinkError(`cannot write sink file ${this.path}`, err, this.path);
    }
  }
}

/** Keeps items in memory; for tests and embedding. Same contract as the file sink. */
export class MemorySink<T> implements Sink<T> {
  /** Every item written, in order. */
  readonly items: T[] = [];
  /** Number of `write` calls that carried at least one item. */
  writes = 0;
  closed = false;

  write(items: readonly T[]): Promise<void> {
    if (this.closed) return Promise.reject(new SinkError('memory sink is closed'));
    if (items.length > 0) this.writes++;
    this.items.push(...items);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/**
 * One JSON line for a dead letter: `reason`, `detail`, then the record in the recorded format
 * (docs/recorded-format.md) with the value always base64 (`valueEncoding: 'base64'`), so the original
 * bytes survive exactly and the line can be replayed as is.
 */
export function serializeDeadLetter(dead: DeadLetter): string {
  return JSON.stringify({
    reason: dead.reason,
    detail: dead.detail,
    ...toRecordLine(dead.record, { valueEncoding: 'base64' }),
  });
}

/**
 * One JSON line for a scored event, keys in a fixed order so replays are byte-identical. Non-finite
 * numbers (which the detector should not produce) become null.
 */
export function serializeScoredEvent(event: ScoredEvent): string {
  return JSON.stringify({
    topic: event.ref.topic,
    partition: event.ref.partition,
    offset: event.ref.offset,
    timestamp: event.timestamp,
    key: event.key,
    status: event.status,
    logLikelihood: event.logLikelihood,
    anomalyScore: event.anomalyScore,
    threshold: event.threshold,
    isAnomaly: event.isAnomaly,
    modelVersion: event.modelVersion,
    ...(event.episode ? { episode: event.episode } : {}),
    ...(event.explanation ? { explanation: event.explanation } : {}),
  });
}
