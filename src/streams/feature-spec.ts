import { InvalidOptionError } from '../errors.js';

/** Default cap on a record value's size, in bytes (1 MiB). Larger values are dead-lettered as `oversize`. */
export const DEFAULT_MAX_RECORD_BYTES = 1_048_576;

/** Default cap on an entity key's size, in bytes (1 KiB). Longer keys are dead-lettered as `oversize_key`. */
export const DEFAULT_MAX_KEY_BYTES = 1024;

/** Which JSON fields make up the feature vector. */
export interface FeatureSpecOptions {
  /** Dot paths of the numeric features, in feature-vector order, e.g. `['http.bytes', 'latencyMs']`. */
  readonly fields: readonly string[];
  /** Dot path of the entity key inside the JSON value; falls back to the record key when absent. */
  readonly keyField?: string;
  /** Values larger than this many bytes are dead-lettered without parsing. Default 1 MiB. */
  readonly maxRecordBytes?: number;
  /**
   * Record keys, and `keyField` values, longer than this many UTF-8 bytes are dead-lettered as
   * `oversize_key` (a huge key would be copied into every output and may exceed the output topic's
   * limit). Default 1 KiB.
   */
  readonly maxKeyBytes?: number;
}

/** A validated feature spec with its paths pre-split. Build it with `createFeatureSpec`. */
export interface FeatureSpec {
  readonly fields: readonly string[];
  readonly keyField: string | null;
  /** Bytes. */
  readonly maxRecordBytes: number;
  /** Bytes. */
  readonly maxKeyBytes: number;
  /** `fields` split on dots. */
  readonly fieldPaths: readonly (readonly string[])[];
  /** `keyField` split on dots, or null. */
  readonly keyPath: readonly string[] | null;
}

/**
 * Splits a dot path into segments. Segments must be non-empty; a key that itself contains a dot
 * cannot be addressed. Throws `InvalidOptionError` naming `what` when the path is malformed.
 */
export function parsePath(path: string, what = 'path'): readonly string[] {
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidOptionError(`${what} must be a non-empty dot path such as 'http.bytes'`, {
      context: { path },
    });
  }
  const segments = path.split('.');
  if (segments.some((s) => s.length === 0)) {
    throw new InvalidOptionError(
      `${what} '${path}' has an empty segment; remove leading, trailing or doubled dots`,
      { context: { path } },
    );
  }
  return segments;
}

/**
 * Reads a pre-split path from parsed JSON. Only own properties are followed (so `constructor` or
 * `__proto__` never reach the prototype); numeric segments index arrays. Returns `undefined` when any
 * segment is missing or a non-container is reached.
 */
export function getPath(value: unknown, path: readonly string[]): unknown {
  let current: unknown = value;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * Writes `leaf` at a pre-split path, creating plain objects on the way (the inverse of `getPath`, used by
 * the synthetic generator). Existing non-object values on the way are replaced.
 */
export function setPath(target: Record<string, unknown>, path: readonly string[], leaf: unknown): void {
  let current = target;
  path.forEach((segment, i) => {
    if (i === path.length - 1) {
      current[segment] = leaf;
      return;
    }
    const next = current[segment];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
      current = next as Record<string, unknown>;
    } else {
      const created: Record<string, unknown> = {};
      current[segment] = created;
      current = created;
    }
  });
}

/** Validates options and returns an immutable `FeatureSpec`; throws `InvalidOptionError` on bad input. */
export function createFeatureSpec(options: FeatureSpecOptions): FeatureSpec {
  const {
    fields,
    keyField,
    maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
    maxKeyBytes = DEFAULT_MAX_KEY_BYTES,
  } = options;
  if (!Array.isArray(fields) || fields.length === 0) {
    throw new InvalidOptionError('fields must be a non-empty array of dot paths, e.g. ["http.bytes"]', {
      context: { fields },
    });
  }
  const fieldPaths = fields.map((f, i) => parsePath(f, `fields[${i}]`));
  const duplicate = fields.find((f, i) => fields.indexOf(f) !== i);
  if (duplicate !== undefined) {
    throw new InvalidOptionError(`fields lists '${duplicate}' twice; each feature must appear once`, {
      context: { fields },
    });
  }
  const keyPath = keyField === undefined ? null : parsePath(keyField, 'keyField');
  if (!Number.isSafeInteger(maxRecordBytes) || maxRecordBytes < 1) {
    throw new InvalidOptionError(
      `maxRecordBytes must be a positive integer number of bytes, got ${maxRecordBytes}`,
      {
        context: { maxRecordBytes },
      },
    );
  }
  if (!Number.isSafeInteger(maxKeyBytes) || maxKeyBytes < 1) {
    throw new InvalidOptionError(
      `maxKeyBytes must be a positive integer number of bytes (features.maxKeyBytes), got ${maxKeyBytes}`,
      { context: { maxKeyBytes } },
    );
  }
  return Object.freeze({
    fields: Object.freeze([...fields]),
    keyField: keyField ?? null,
    maxRecordBytes,
    maxKeyBytes,
    fieldPaths: Object.freeze(fieldPaths),
    keyPath,
  });
}
