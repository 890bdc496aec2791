import { REDACTED } from '../log-names.js';
import { SECRET_PATHS } from './schema.js';

/** True when `path` is a secret key path (e.g. kafka.sasl.password) or lies inside one. */
export function isSecretPath(path: readonly PropertyKey[]): boolean {
  return SECRET_PATHS.some((secret) => secret.length <= path.length && secret.every((k, i) => path[i] === k));
}

/** True when `path` contains a secret somewhere below it (e.g. kafka.sasl). */
export function containsSecret(path: readonly PropertyKey[]): boolean {
  return SECRET_PATHS.some((secret) => secret.length > path.length && path.every((k, i) => secret[i] === k));
}

/** Deep copy of a config (or any part of one rooted at the top) with secret values replaced by '[REDACTED]'. */
export function redactConfig<T>(config: T): T {
  return redactAt(config, []) as T;
}

function redactAt(value: unknown, path: PropertyKey[]): unknown {
  if (value === undefined) return undefined;
  if (isSecretPath(path)) return REDACTED;
  if (Array.isArray(value)) return value.map((v, i) => redactAt(v, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactAt(v, [...path, k]);
    return out;
  }
  return value;
}

/** Short, secret-safe rendering of an offending value for error messages. */
export function describeValue(path: readonly PropertyKey[], value: unknown): string {
  if (value === undefined) return 'nothing';
  if (isSecretPath(path)) return REDACTED;
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    const text = containsSecret(path) ? '' : safeJson(value);
    return text !== '' && text.length <= 80 ? text : `a list of ${value.length}`;
  }
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const text = JSON.stringify(value);
    return text.length <= 80 ? text : `${text.slice(0, 77)}..."`;
  }
  return String(value);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}
