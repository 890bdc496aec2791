import { map, type OperatorFunction } from 'rxjs';
import { type FeatureSpec, getPath } from './feature-spec.js';
import type { DeadLetterReason, Decoded, RecordRef, SourceRecord } from './types.js';

/** Strips a leading BOM, which JSON.parse would reject. */
const utf8Json = new TextDecoder('utf-8', { fatal: true });
/** Keeps every byte, so keys that differ only by a BOM stay distinct. */
const utf8Key = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Numeric strings accepted as features: plain decimal notation with optional sign, fraction and exponent
 * (what JSON itself allows, plus a leading '+' or '.'). No whitespace, hex, or thousands separators.
 */
const NUMERIC_STRING = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Strings that spell a non-finite number; they decode to `non_finite` rather than `non_numeric`. */
const NON_FINITE_STRINGS = new Set(['NaN', '-NaN', '+NaN', 'Infinity', '+Infinity', '-Infinity']);

type FieldResult =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly reason: DeadLetterReason; readonly detail: string };

/**
 * Turns one feature value into a float32-representable finite number.
 *
 * Decisions: JSON `null` counts as missing (`missing_field`). Numeric strings such as `"12.5"` are
 * accepted, because many producers (log shippers, CSV bridges) quote numbers; `"NaN"`/`"Infinity"` are
 * `non_finite`. Booleans, other strings, objects and arrays are `non_numeric`. Numbers that overflow
 * JSON (`1e400`) or float32 (`1e39`) are `non_finite`, since features are stored as float32.
 */
function toFeature(raw: unknown, path: string): FieldResult {
  if (raw === undefined || raw === null) return { ok: false, reason: 'missing_field', detail: path };
  let value: number;
  if (typeof raw === 'number') {
    value = raw;
  } else if (typeof raw === 'string' && NUMERIC_STRING.test(raw)) {
    value = Number(raw);
  } else if (typeof raw === 'string' && NON_FINITE_STRINGS.has(raw)) {
    return { ok: false, reason: 'non_finite', detail: `${path}: "${raw}"` };
  } else {
    return { ok: false, reason: 'non_numeric', detail: `${path}: ${describe(raw)}` };
  }
  if (!Number.isFinite(value))
    return { ok: false, reason: 'non_finite', detail: `${path}: ${String(value)}` };
  if (!Number.isFinite(Math.fround(value))) {
    return { ok: false, reason: 'non_finite', detail: `${path}: ${value} overflows float32` };
  }
  return { ok: true, value };
}

function describe(raw: unknown): string {
  if (typeof raw === 'string') return `string "${raw.length > 40 ? `${raw.slice(0, 40)}…` : raw}"`;
  if (Array.isArray(raw)) return 'array';
  return typeof raw;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function keyToString(raw: unknown): string | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'object') return JSON.stringify(raw);
  return String(raw);
}

/**
 * Record key bytes as text: UTF-8 when valid, otherwise `base64:` followed by the base64 of the bytes,
 * so distinct binary keys stay distinct.
 */
export function recordKeyToString(key: Uint8Array | null): string | null {
  if (key === null) return null;
  try {
    return utf8Key.decode(key);
  } catch {
    return `base64:${Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64')}`;
  }
}

function refOf(record: SourceRecord): RecordRef {
  return { topic: record.topic, partition: record.partition, offset: record.offset };
}

function dead(record: SourceRecord, reason: DeadLetterReason, detail: string): Decoded {
  return { ok: false, dead: { record, reason, detail } };
}

function keyDetail(what: string | null, size: number, spec: FeatureSpec): string {
  return `${what ?? 'key'} is ${size} bytes, limit is ${spec.maxKeyBytes} (features.maxKeyBytes)`;
}

function parseJson(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; detail: string } {
  let text: string;
  try {
    text = utf8Json.decode(bytes);
  } catch {
    return { ok: false, detail: 'value is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message.slice(0, 200) : 'invalid JSON' };
  }
}

/**
 * Decodes a record's value into a `FeatureEvent`, or explains why it cannot as a `DeadLetter`. Never
 * throws. Checks run in this order, and the first failure wins:
 * `empty_value` (null or zero-length value) → `oversize` (byte length > `spec.maxRecordBytes`, before
 * parsing) → `oversize_key` (record key longer than `spec.maxKeyBytes`) → `not_json` (invalid UTF-8 or JSON) → `not_object` (top level not a JSON object) →
 * per field in spec order: `missing_field` (absent or null; detail = path), `non_numeric`, `non_finite` →
 * `oversize_key` (the `keyField` value longer than `spec.maxKeyBytes` UTF-8 bytes).
 * Numeric strings (`"12.5"`, `"1e3"`) are accepted as numbers; `"NaN"`/`"Infinity"` strings, JSON numbers
 * that overflow (`1e400`) and values beyond float32 range are `non_finite`.
 *
 * Key: the `keyField` value (strings as-is, other JSON stringified) when present and not null, else the
 * record key (see `recordKeyToString`), else null.
 */
export function decodeRecord(record: SourceRecord, spec: FeatureSpec): Decoded {
  return decodeWith(record, spec, directKeysOf(spec));
}

/**
 * Per field, the property to read straight off the parsed top-level object, or null to walk the path
 * with `getPath`: a one-segment path that no object inherits (not an `Object.prototype` name such as
 * `constructor` or `__proto__`) reads the same as `getPath` without its own-property check, since the
 * value is then a plain JSON object. Cached per spec.
 */
function directKeysOf(spec: FeatureSpec): readonly (string | null)[] {
  let keys = directKeys.get(spec);
  if (keys === undefined) {
    keys = spec.fieldPaths.map((p) => (p.length === 1 && !(p[0]! in Object.prototype) ? p[0]! : null));
    directKeys.set(spec, keys);
  }
  return keys;
}

const directKeys = new WeakMap<FeatureSpec, readonly (string | null)[]>();

function decodeWith(record: SourceRecord, spec: FeatureSpec, direct: readonly (string | null)[]): Decoded {
  const bytes = record.value;
  if (bytes === null || bytes.byteLength === 0) return dead(record, 'empty_value', 'record value is empty');
  if (bytes.byteLength > spec.maxRecordBytes) {
    return dead(record, 'oversize', `value is ${bytes.byteLength} bytes, limit is ${spec.maxRecordBytes}`);
  }
  if (record.key !== null && record.key.byteLength > spec.maxKeyBytes) {
    return dead(record, 'oversize_key', keyDetail('record key', record.key.byteLength, spec));
  }
  const parsed = parseJson(bytes);
  if (!parsed.ok) return dead(record, 'not_json', parsed.detail);
  const json = parsed.value;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return dead(record, 'not_object', `top-level JSON is ${jsonType(json)}, expected an object`);
  }
  const paths = spec.fieldPaths;
  const features = new Float32Array(paths.length);
  for (let i = 0; i < paths.length; i++) {
    const key = direct[i];
    const raw =
      key === null || key === undefined ? getPath(json, paths[i]!) : (json as Record<string, unknown>)[key];
    // The common case, a finite JSON number within float32 range, without `toFeature`'s result object.
    if (typeof raw === 'number' && Number.isFinite(Math.fround(raw))) {
      features[i] = raw;
      continue;
    }
    const result = toFeature(raw, spec.fields[i]!);
    if (!result.ok) return dead(record, result.reason, result.detail);
    features[i] = result.value;
  }
  const fieldKey = spec.keyPath === null ? null : keyToString(getPath(json, spec.keyPath));
  if (fieldKey !== null && fieldKey.length > spec.maxKeyBytes / 3) {
    // Cheap pre-check first: a UTF-8 byte count is only needed when the key could be too long.
    const size = Buffer.byteLength(fieldKey, 'utf8');
    if (size > spec.maxKeyBytes) return dead(record, 'oversize_key', keyDetail(spec.keyField, size, spec));
  }
  const key = fieldKey ?? recordKeyToString(record.key);
  return { ok: true, event: { ref: refOf(record), timestamp: record.timestamp, key, features } };
}

/** Operator form of `decodeRecord`: one `Decoded` per input record, in order. */
export function decode(spec: FeatureSpec): OperatorFunction<SourceRecord, Decoded> {
  const direct = directKeysOf(spec);
  return map((record) => decodeWith(record, spec, direct));
}
