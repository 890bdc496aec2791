import { InvalidOptionError, SerializationError } from '../errors.js';

/**
 * Validation helpers shared by the neural transforms. The same checks serve constructor options
 * (failing with `InvalidOptionError`) and `fromJSON` configs (failing with `SerializationError`), so a
 * check takes the `Fail` callback that raises the right error class.
 */
export type Fail = (message: string) => never;

/** `Fail` for constructor/builder options. */
export const failOption: Fail = (message) => {
  throw new InvalidOptionError(message);
};

/** `Fail` for a module spec of `kind` read from JSON. */
export function failSpec(kind: string): Fail {
  return (message) => {
    throw new SerializationError(`invalid "${kind}" spec: ${message}`, { context: { kind } });
  };
}

/** Activations available to the conditioner networks. */
export const ACTIVATIONS = ['tanh', 'relu', 'elu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** `value` as an integer ≥ `min`, or `fallback` when undefined. */
export function checkInt(name: string, value: unknown, min: number, fail: Fail, fallback?: number): number {
  const v = value === undefined ? fallback : value;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    fail(`${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return v as number;
}

/** `value` as a finite number in the open interval (lo, hi), or `fallback` when undefined. */
export function checkRange(
  name: string,
  value: unknown,
  lo: number,
  hi: number,
  fail: Fail,
  fallback?: number,
): number {
  const v = value === undefined ? fallback : value;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= lo || v >= hi) {
    fail(`${name} must be a finite number in (${lo}, ${hi}), got ${String(value)}`);
  }
  return v as number;
}

/** One of `allowed`, or `fallback` when undefined. */
export function checkChoice<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
  fail: Fail,
  fallback: T,
): T {
  const v = value === undefined ? fallback : value;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(`${name} must be one of ${allowed.join(', ')}, got ${String(value)}`);
  }
  return v as T;
}

/**
 * Hidden layer widths: a positive integer (meaning two hidden layers of that width) or a non-empty array
 * of positive integers.
 */
export function checkHidden(value: unknown, fail: Fail, fallback: readonly number[] = [64, 64]): number[] {
  if (value === undefined) return [...fallback];
  if (typeof value === 'number') {
    const h = checkInt('hidden', value, 1, fail);
    return [h, h];
  }
  if (!Array.isArray(value) || value.length === 0) {
    fail(`hidden must be a positive integer or a non-empty array of them, got ${JSON.stringify(value)}`);
  }
  return (value as unknown[]).map((h, i) => checkInt(`hidden[${i}]`, h, 1, fail));
}

/** The `config` object of a spec, or a failure if it is not a plain object. */
export function configObject(value: unknown, fail: Fail): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('config must be an object');
  return value as Record<string, unknown>;
}

/** Throws `InvalidOptionError` unless `shape` is `[batch, dim]`. */
export function checkBatchShape(shape: readonly number[], dim: number, kind: string): void {
  if (shape.length !== 2 || shape[1] !== dim) {
    throw new InvalidOptionError(
      `${kind}: expected input of shape [batch, ${dim}], got [${shape.join(', ')}]`,
    );
  }
}
