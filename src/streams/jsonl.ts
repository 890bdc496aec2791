import { isUtf8 } from 'node:buffer';
import { FlowsentinelError } from '../errors.js';
import type { SourceRecord } from './types.js';

/**
 * One line of a recorded topic (see docs/recorded-format.md). Byte fields are UTF-8 text when the bytes
 * are valid UTF-8, else base64, flagged by the matching encoding field (absent means 'utf8').
 */
export interface RecordLine {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly timestamp: number;
  readonly key: string | null;
  readonly keyEncoding?: ByteEncoding;
  readonly headers: Record<string, string>;
  /** Names of headers whose values are base64. */
  readonly headerEncodings?: Record<string, ByteEncoding>;
  readonly value: string | null;
  readonly valueEncoding?: ByteEncoding;
}

/** How bytes are written as a JSON string. */
export type ByteEncoding = 'utf8' | 'base64';

/** A replay-file line could not be parsed; `lineNumber` (1-based) says where. */
export class RecordLineError extends FlowsentinelError {
  readonly lineNumber: number | null;

  constructor(message: string, lineNumber: number | null, cause?: unknown) {
    const where = lineNumber === null ? '' : `line ${lineNumber}: `;
    super(`${where}${message}`, { cause, retriable: false, context: { lineNumber } });
    this.lineNumber = lineNumber;
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const OFFSET = /^(?:0|[1-9]\d*)$/;

/** A dictionary without a prototype, so a header named `__proto__` is stored like any other. */
function dictionary<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Bytes as a JSON string: UTF-8 text when valid (and not forced), else base64. */
export function encodeBytes(
  bytes: Uint8Array,
  force?: ByteEncoding,
): { text: string; encoding: ByteEncoding } {
  const buffer = asBuffer(bytes);
  const encoding = force ?? (isUtf8(buffer) ? 'utf8' : 'base64');
  return { text: buffer.toString(encoding), encoding };
}

/** Inverse of `encodeBytes`; throws `RecordLineError` on malformed base64 or an unknown encoding. */
export function decodeBytes(text: string, encoding: unknown, field: string): Uint8Array {
  if (encoding === undefined || encoding === 'utf8') return utf8Bytes(text);
  if (encoding !== 'base64') throw new RecordLineError(`${field} encoding must be 'utf8' or 'base64'`, null);
  if (!BASE64.test(text)) throw new RecordLineError(`${field} is not canonical base64`, null);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/**
 * A record as a `RecordLine` object with a stable key order. `valueEncoding: 'base64'` forces base64
 * for the value (dead letters keep the original bytes that way).
 */
export function toRecordLine(
  record: SourceRecord,
  options: { valueEncoding?: ByteEncoding } = {},
): RecordLine {
  const key = record.key === null ? null : encodeBytes(record.key);
  const value = record.value === null ? null : encodeBytes(record.value, options.valueEncoding);
  const headers = dictionary<string>();
  const headerEncodings = dictionary<ByteEncoding>();
  for (const [name, bytes] of Object.entries(record.headers)) {
    const encoded = encodeBytes(bytes);
    headers[name] = encoded.text;
    if (encoded.encoding === 'base64') headerEncodings[name] = 'base64';
  }
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: key?.text ?? null,
    ...(key?.encoding === 'base64' ? { keyEncoding: 'base64' as const } : {}),
    headers,
    ...(Object.keys(headerEncodings).length > 0 ? { headerEncodings } : {}),
    value: value?.text ?? null,
    ...(value?.encoding === 'base64' ? { valueEncoding: 'base64' as const } : {}),
  };
}

/** One JSONL line (no trailing newline) for a record; byte-identical for identical records. */
export function encodeRecordLine(record: SourceRecord): string {
  return JSON.stringify(toRecordLine(record));
}

function fail(message: string): never {
  throw new RecordLineError(message, null);
}

function field<T>(
  obj: Record<string, unknown>,
  name: string,
  check: (v: unknown) => v is T,
  want: string,
): T {
  const v = obj[name];
  if (!check(v)) fail(`field '${name}' must be ${want}, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isPartition = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isTimestamp = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function parseOffset(v: unknown): string {
  if (typeof v === 'string' && OFFSET.test(v)) return v;
  if (Number.isSafeInteger(v) && (v as number) >= 0) return String(v);
  return fail(`field 'offset' must be a non-negative integer (decimal string), got ${JSON.stringify(v)}`);
}

function parseHeaders(obj: Record<string, unknown>): Record<string, Uint8Array> {
  const raw = obj.headers === undefined ? {} : field(obj, 'headers', isObject, 'an object of strings');
  const encodings =
    obj.headerEncodings === undefined ? {} : field(obj, 'headerEncodings', isObject, 'an object');
  const headers = dictionary<Uint8Array>();
  for (const [name, text] of Object.entries(raw)) {
    if (typeof text !== 'string') fail(`header '${name}' must be a string`);
    const encoding = Object.hasOwn(encodings, name) ? encodings[name] : undefined;
    headers[name] = decodeBytes(text, encoding, `header '${name}'`);
  }
  return headers;
}

/** The headers of a record without any; shared, since records are read-only. */
const NO_HEADERS: Record<string, Uint8Array> = Object.freeze(dictionary<Uint8Array>());

function hasOwnKeys(obj: object): boolean {
  for (const name in obj) if (Object.hasOwn(obj, name)) return true;
  return false;
}

/** UTF-8 bytes of `text`: a view on the encoded buffer (often a slice of Node's shared pool), not a copy. */
function utf8Bytes(text: string): Uint8Array {
  const encoded = Buffer.from(text, 'utf8');
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/**
 * The record of the common line — string offset, UTF-8 key and value (no encoding fields), no headers —
 * built without the per-field checks' closures; null for any other line, which `parseObject` then
 * reads (and rejects with its messages). Gives the same record as `parseObject` wherever it is not null.
 */
function parsePlain(obj: Record<string, unknown>): SourceRecord | null {
  const { topic, partition, offset, timestamp, key, value, headers } = obj;
  if (
    typeof topic !== 'string' ||
    typeof offset !== 'string' ||
    !(key === null || typeof key === 'string') ||
    !(value === null || typeof value === 'string') ||
    !isPartition(partition) ||
    !isTimestamp(timestamp) ||
    !OFFSET.test(offset) ||
    obj.keyEncoding !== undefined ||
    obj.valueEncoding !== undefined ||
    obj.headerEncodings !== undefined ||
    !(headers === undefined || (isObject(headers) && !hasOwnKeys(headers)))
  ) {
    return null;
  }
  return {
    topic,
    partition,
    offset,
    timestamp,
    key: key === null ? null : utf8Bytes(key),
    headers: NO_HEADERS,
    value: value === null ? null : utf8Bytes(value),
  };
}

function parseObject(obj: Record<string, unknown>): SourceRecord {
  const key = field(obj, 'key', isStringOrNull, 'a string or null');
  const value = field(obj, 'value', isStringOrNull, 'a string or null');
  return {
    topic: field(obj, 'topic', isString, 'a string'),
    partition: field(obj, 'partition', isPartition, 'a non-negative integer'),
    offset: parseOffset(obj.offset),
    timestamp: field(obj, 'timestamp', isTimestamp, 'a finite number (epoch ms)'),
    key: key === null ? null : decodeBytes(key, obj.keyEncoding, 'key'),
    headers: parseHeaders(obj),
    value: value === null ? null : decodeBytes(value, obj.valueEncoding, 'value'),
  };
}

/**
 * Parses one JSONL line into a record. Throws `RecordLineError` (with `lineNumber` when given) on a
 * malformed line; the caller decides whether to stop or skip. Unknown fields are ignored, so a dead-letter
 * file (which adds `reason`/`detail`) is itself replayable. `offset` may also be a safe integer number.
 */
export function parseRecordLine(line: string, lineNumber?: number): SourceRecord {
  const where = lineNumber ?? null;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    throw new RecordLineError(
      `not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      where,
      err,
    );
  }
  if (!isObject(json)) throw new RecordLineError('expected a JSON object per line', where);
  try {
    return parsePlain(json) ?? parseObject(json);
  } catch (err) {
    if (err instanceof RecordLineError && where !== null) throw new RecordLineError(err.message, where, err);
    throw err;
  }
}
