import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { serializeScoredEvent } from '../streams/sinks.js';
import type { DeadLetter, ScoredEvent, SourceRecord } from '../streams/types.js';

/** Headers flowsentinel sets on its output records. */
export const OUTPUT_HEADERS = {
  modelVersion: 'x-model-version',
  reason: 'x-reason',
  status: 'x-status',
  anomalyScore: 'x-anomaly-score',
  threshold: 'x-threshold',
  sourceTopic: 'x-source-topic',
  sourcePartition: 'x-source-partition',
  sourceOffset: 'x-source-offset',
  sourceTimestamp: 'x-source-timestamp',
  dlqReason: 'x-dlq-reason',
  dlqDetail: 'x-dlq-detail',
  dlqTruncated: 'x-dlq-truncated-from',
} as const;

/** Longest `x-dlq-detail` header, characters. */
const MAX_DETAIL_CHARS = 1000;

/** A view of a Buffer as a plain Uint8Array (no copy), so records compare equal whatever the source. */
function view(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A Uint8Array as a Buffer (no copy), as kafkajs wants. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The headers of every record without any (most records): one shared, frozen, prototype-free object. */
const NO_HEADERS: Readonly<Record<string, Uint8Array>> = Object.freeze(Object.create(null));

/** kafkajs header values (Buffer, string, or repeated) as bytes; a repeated header keeps its last value. */
function headerBytes(headers: IHeaders | undefined): Readonly<Record<string, Uint8Array>> {
  let out: Record<string, Uint8Array> | undefined;
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    const raw = headers[name];
    const value = Array.isArray(raw) ? raw.at(-1) : raw;
    if (value === undefined) continue;
    out ??= Object.create(null) as Record<string, Uint8Array>;
    out[name] = typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'utf8')) : view(value);
  }
  return out ?? NO_HEADERS;
}

/** A consumed kafkajs message as a pipeline record. `timestamp` is the record's CreateTime/LogAppendTime, ms. */
export function toSourceRecord(topic: string, partition: number, message: KafkaMessage): SourceRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key === null || message.key === undefined ? null : view(message.key),
    headers: headerBytes(message.headers),
    value: message.value === null ? null : view(message.value),
  };
}

/** A record to produce again (replay): same key, value, headers and timestamp; `partition` when given. */
export function toReplayMessage(record: SourceRecord, partition?: number): Message {
  const headers: IHeaders = {};
  for (const [name, bytes] of Object.entries(record.headers)) headers[name] = toBuffer(bytes);
  return {
    key: record.key === null ? null : toBuffer(record.key),
    value: record.value === null ? null : toBuffer(record.value),
    headers,
    timestamp: String(Math.trunc(record.timestamp)),
    ...(partition === undefined ? {} : { partition }),
  };
}

function sourceHeaders(ref: { topic: string; partition: number; offset: string }): IHeaders {
  return {
    [OUTPUT_HEADERS.sourceTopic]: ref.topic,
    [OUTPUT_HEADERS.sourcePartition]: String(ref.partition),
    [OUTPUT_HEADERS.sourceOffset]: ref.offset,
  };
}

/**
 * A scored event as an output record: value = `serializeScoredEvent` JSON, key = entity key, headers
 * with the model version, status, score, threshold, and where the input came from. Anomalies also carry
 * `x-reason: threshold` (the score crossed the active threshold policy).
 */
export function scoredEventMessage(event: ScoredEvent): Message {
  return {
    key: event.key,
    value: serializeScoredEvent(event),
    headers: {
      [OUTPUT_HEADERS.modelVersion]: String(event.modelVersion),
      [OUTPUT_HEADERS.status]: event.status,
      [OUTPUT_HEADERS.anomalyScore]: String(event.anomalyScore),
      [OUTPUT_HEADERS.threshold]: String(event.threshold),
      ...(event.isAnomaly ? { [OUTPUT_HEADERS.reason]: 'threshold' } : {}),
      ...sourceHeaders(event.ref),
    },
  };
}

/**
 * A dead letter as an output record: the ORIGINAL key and value bytes and original headers, plus
 * `x-dlq-reason`, `x-dlq-detail`, `x-source-*`. A value longer than `maxValueBytes` is cut to that length
 * and `x-dlq-truncated-from` holds its original length (so one oversize input cannot fail the DLQ write).
 */
export function deadLetterMessage(dead: DeadLetter, maxValueBytes: number): Message {
  const { record } = dead;
  const headers: IHeaders = {};
  for (const [name, bytes] of Object.entries(record.headers)) headers[name] = toBuffer(bytes);
  let value = record.value === null ? null : toBuffer(record.value);
  if (value !== null && value.byteLength > maxValueBytes) {
    headers[OUTPUT_HEADERS.dlqTruncated] = String(value.byteLength);
    value = value.subarray(0, maxValueBytes);
  }
  return {
    key: record.key === null ? null : toBuffer(record.key),
    value,
    headers: {
      ...headers,
      [OUTPUT_HEADERS.dlqReason]: dead.reason,
      [OUTPUT_HEADERS.dlqDetail]: dead.detail.slice(0, MAX_DETAIL_CHARS),
      [OUTPUT_HEADERS.sourceTimestamp]: String(record.timestamp),
      ...sourceHeaders(record),
    },
  };
}

/** Any JSON-serialisable event (drift events) as an output record; `key` optional. */
export function jsonMessage(item: unknown, key: string | null = null): Message {
  return { key, value: JSON.stringify(item) ?? 'null' };
}
