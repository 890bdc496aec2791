/**
 * The terminal rendering of log lines (`log.format: pretty`): the message followed by short
 * `key=value` fields on the same line, so a person can read it; collectors get JSON instead.
 */

/** Keys pino writes on every line; pino-pretty renders time and level itself. */
const LOGGER_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

/** Longest rendering of one nested value before it is cut with an ellipsis. */
const MAX_VALUE_CHARS = 80;

/** Renders `value` of a known field as a short phrase, or returns undefined to use the generic form. */
type Summariser = (value: unknown) => string | undefined;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Numbers with at most 4 significant digits (integers are kept whole). */
function shortNumber(n: number): string {
  if (Number.isInteger(n) || !Number.isFinite(n)) return String(n);
  return String(Number(n.toPrecision(4)));
}

function shortDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 120) return `${shortNumber(s)} s`;
  if (s < 7200) return `${shortNumber(s / 60)} min`;
  return `${shortNumber(s / 3600)} h`;
}

/** `topic-partition@offset` of a record reference. */
function recordText(ref: unknown): string | undefined {
  if (!isRecord(ref) || typeof ref.topic !== 'string') return undefined;
  return `${ref.topic}-${String(ref.partition)}@${String(ref.offset)}`;
}

/** A drift event (`DriftEvent` of the detector) as one phrase. */
function summariseDrift(value: unknown): string | undefined {
  if (!isRecord(value) || typeof value.score !== 'number') return undefined;
  const where = recordText(value.ref);
  const when =
    typeof value.timestamp === 'number' ? `event time ${new Date(value.timestamp).toISOString()}` : '';
  const parts = [where === undefined ? when : when === '' ? `at ${where}` : `at ${where} (${when})`];
  parts.push(
    `score ${shortNumber(value.score)}${typeof value.level === 'number' ? ` (level ${shortNumber(value.level)})` : ''}`,
  );
  if (typeof value.windowMeanLogLikelihood === 'number' && typeof value.referenceLogLikelihood === 'number') {
    const mean = shortNumber(value.windowMeanLogLikelihood);
    parts.push(`mean log p ${mean} vs reference ${shortNumber(value.referenceLogLikelihood)}`);
  }
  if (typeof value.durationMs === 'number') parts.push(`lasted ${shortDuration(value.durationMs)}`);
  if (typeof value.eventIndex === 'number') parts.push(`after ${value.eventIndex} scored events`);
  return parts.filter((p) => p !== '').join(', ');
}

/** An error serialised by pino (`{ type, message, stack }`): its type and message. */
function summariseError(value: unknown): string | undefined {
  if (!isRecord(value) || typeof value.message !== 'string') return undefined;
  const type = typeof value.type === 'string' && value.type !== 'Error' ? `${value.type}: ` : '';
  return JSON.stringify(`${type}${value.message}`);
}

const SUMMARISERS: Readonly<Record<string, Summariser>> = {
  drift: summariseDrift,
  err: summariseError,
  error: summariseError,
};

function shortValue(value: unknown): string {
  if (typeof value === 'number') return shortNumber(value);
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value === undefined) return 'undefined';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/** The fields of one log record (without pino's own keys) as `key=value` pairs. */
export function formatLogFields(record: Readonly<Record<string, unknown>>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (LOGGER_KEYS.has(key)) continue;
    const summary = SUMMARISERS[key]?.(value);
    parts.push(summary === undefined ? `${key}=${shortValue(value)}` : `${key}: ${summary}`);
  }
  return parts.join('  ');
}

/** The message of one log record followed by its short fields, for pino-pretty's `messageFormat`. */
export function formatLogMessage(record: Readonly<Record<string, unknown>>, messageKey: string): string {
  const msg = record[messageKey];
  const text = typeof msg === 'string' ? msg : msg === undefined ? '' : shortValue(msg);
  const fields = formatLogFields(record);
  if (fields === '') return text;
  return text === '' ? fields : `${text}  ${fields}`;
}
