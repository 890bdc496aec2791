/** Recordings built in code: `recordOf` turns plain objects into Kafka-shaped records; JSONL in and out. */
import { writeFile } from 'node:fs/promises';
import type { SourceRecord } from '../core/records.js';
import { InvalidOptionError } from '../errors.js';
import { encodeRecordLine } from '../streams/jsonl.js';

/** Bytes given as text (UTF-8) or as raw bytes. */
export type BytesInput = string | Uint8Array;

/** One record of a recording, as a test writes it. Only `value` is required. */
export interface RecordInput {
  /** The record value: an object or array is JSON-encoded, a string is UTF-8 text, null is a tombstone. */
  readonly value: unknown;
  /** Record key (e.g. the host id), or null/absent for none. */
  readonly key?: BytesInput | null;
  /** Event time, epoch ms; default: the previous record's timestamp + `intervalMs` (the first: `startTime`). */
  readonly timestamp?: number;
  readonly headers?: Readonly<Record<string, BytesInput>>;
  /** Default 0. Offsets are assigned per (topic, partition) in the order given, from 0. */
  readonly partition?: number;
  /** Default `recordOf`'s `topic` option. */
  readonly topic?: string;
}

/** Options of `recordOf`. */
export interface RecordOfOptions {
  /** Topic of records that name none; default 'recorded'. */
  readonly topic?: string;
  /** Timestamp of a first record that gives none, epoch ms; default 2024-01-01T00:00:00Z. */
  readonly startTime?: number;
  /** Event-time step for records without a timestamp, ms; default 1000. */
  readonly intervalMs?: number;
}

const DEFAULT_START_TIME = Date.UTC(2024, 0, 1);
const encoder = new TextEncoder();

function bytes(input: BytesInput): Uint8Array {
  return typeof input === 'string' ? encoder.encode(input) : input;
}

function valueBytes(value: unknown, index: number): Uint8Array | null {
  if (value === null) return null;
  if (typeof value === 'string' || value instanceof Uint8Array) return bytes(value);
  const json = JSON.stringify(value);
  if (json === undefined) {
    throw new InvalidOptionError(
      `recordOf: record ${index} has no JSON-encodable value (got ${typeof value})`,
    );
  }
  return encoder.encode(json);
}

function headersOf(headers: RecordInput['headers']): Record<string, Uint8Array> {
  const out = Object.create(null) as Record<string, Uint8Array>;
  for (const [name, v] of Object.entries(headers ?? {})) out[name] = bytes(v);
  return out;
}

function checkInput(r: RecordInput, index: number): void {
  if (r.partition !== undefined && !(Number.isSafeInteger(r.partition) && r.partition >= 0)) {
    throw new InvalidOptionError(
      `recordOf: record ${index} partition must be an integer ≥ 0, got ${r.partition}`,
    );
  }
  if (r.timestamp !== undefined && !Number.isFinite(r.timestamp)) {
    throw new InvalidOptionError(
      `recordOf: record ${index} timestamp must be finite epoch ms, got ${r.timestamp}`,
    );
  }
}

/**
 * Kafka-shaped records from plain objects, e.g. `recordOf([{ key: 'host-7', value: { cpu: 0.93 } }])`.
 * Offsets count from 0 per (topic, partition) in the order given; missing timestamps continue from the
 * previous record by `intervalMs`. The result feeds `replayRecording` or `writeRecording`.
 */
export function recordOf(inputs: Iterable<RecordInput>, options: RecordOfOptions = {}): SourceRecord[] {
  const topic = options.topic ?? 'recorded';
  const intervalMs = options.intervalMs ?? 1000;
  const next = new Map<string, number>();
  const out: SourceRecord[] = [];
  let time: number | undefined;
  let index = 0;
  for (const r of inputs) {
    checkInput(r, index);
    const t =
      r.timestamp ?? (time === undefined ? (options.startTime ?? DEFAULT_START_TIME) : time + intervalMs);
    time = t;
    const recordTopic = r.topic ?? topic;
    const partition = r.partition ?? 0;
    const at = `${recordTopic}\u0000${partition}`;
    const offset = next.get(at) ?? 0;
    next.set(at, offset + 1);
    out.push({
      topic: recordTopic,
      partition,
      offset: String(offset),
      timestamp: t,
      key: r.key === undefined || r.key === null ? null : bytes(r.key),
      headers: headersOf(r.headers),
      value: valueBytes(r.value, index),
    });
    index += 1;
  }
  return out;
}

/** The records as a recorded topic (docs/recorded-format.md): one JSON line each, newline-terminated. */
export function recordingText(records: Iterable<SourceRecord>): string {
  let text = '';
  for (const r of records) text += `${encodeRecordLine(r)}\n`;
  return text;
}

/** Writes the records to `path` as a JSONL recording that `replayRecording` and `flowsentinel replay` read. */
export async function writeRecording(path: string, records: Iterable<SourceRecord>): Promise<void> {
  await writeFile(path, recordingText(records), 'utf8');
}
