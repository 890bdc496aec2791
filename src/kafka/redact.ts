import { REDACTED } from '../logging.js';

/** Field names whose values are never logged, whatever they hold. */
const SECRET_KEYS = new Set([
  'password',
  'passwordfile',
  'sasl',
  'ssl',
  'key',
  'cert',
  'ca',
  'secret',
  'token',
]);
const MAX_DEPTH = 6;

/**
 * Replaces every occurrence of each secret in `text` with `[REDACTED]`. Secrets shorter than 4 characters
 * are ignored (they would redact ordinary words); config validation requires longer passwords anyway.
 */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4 && out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/**
 * A log-safe copy of `value`: fields named like secrets (password, sasl, ssl, key, …) become
 * `[REDACTED]`, strings have the known `secrets` scrubbed, Errors become `{ name, message }`, and nesting
 * is cut at a few levels.
 */
export function scrubValue(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value, secrets);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[…]';
  if (value instanceof Error) {
    return { name: value.name, message: scrubText(value.message, secrets) };
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value)) {
    out[name] = SECRET_KEYS.has(name.toLowerCase()) ? REDACTED : scrubValue(v, secrets, depth + 1);
  }
  return out;
}

/**
 * `err` itself when no secret occurs in the message or stack of any error of its cause chain; else a copy
 * of the chain (name, message, stack, code) with the secrets scrubbed, so a cause never carries one.
 */
export function scrubCause(err: unknown, secrets: readonly string[], depth = 0): unknown {
  if (!(err instanceof Error) || depth >= MAX_DEPTH || !chainHolds(err, secrets)) return err;
  const copy = new Error(scrubText(err.message, secrets), {
    cause: scrubCause(err.cause, secrets, depth + 1),
  });
  copy.name = err.name;
  copy.stack = scrubText(err.stack ?? '', secrets);
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) Object.assign(copy, { code });
  return copy;
}

function chainHolds(err: unknown, secrets: readonly string[], depth = 0): boolean {
  if (!(err instanceof Error) || depth >= MAX_DEPTH) return false;
  const text = `${err.message}\n${err.stack ?? ''}`;
  return scrubText(text, secrets) !== text || chainHolds(err.cause, secrets, depth + 1);
}
