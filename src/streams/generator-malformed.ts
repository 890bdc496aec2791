import { DEAD_LETTER_REASONS, type DeadLetterReason } from '../core/records.js';
import type { Rng } from '../core/rng.js';
import { setPath } from './feature-spec.js';

const encoder = new TextEncoder();
const NON_FINITE_PLACEHOLDER = '__flowsentinel_non_finite__';

/** Every kind of bad input the decoder recognises; the generator's default malformed mix. */
export const MALFORMED_KINDS: readonly DeadLetterReason[] = DEAD_LETTER_REASONS;

/** What a malformed value is built from: the feature paths and values of the clean event it replaces. */
export interface MalformedInput {
  readonly paths: readonly (readonly string[])[];
  readonly values: readonly number[];
  /** Extra JSON (e.g. the key field) added after the features. */
  readonly extra: (obj: Record<string, unknown>) => void;
  /** Size of `oversize` values, bytes. */
  readonly oversizeBytes: number;
}

function build(input: MalformedInput, leaf: (j: number, value: number) => unknown): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  input.paths.forEach((path, j) => {
    const v = leaf(j, input.values[j]!);
    if (v !== undefined) setPath(obj, path, v);
  });
  input.extra(obj);
  return obj;
}

function pick(rng: Rng, n: number): number {
  return Math.floor(rng.uniform() * n);
}

/**
 * A value that the decoder must dead-letter with reason `kind` (given a spec over `input.paths` whose
 * `maxRecordBytes` is below `input.oversizeBytes`). Variants within a kind are chosen with `rng`.
 */
export function malformedValue(kind: DeadLetterReason, input: MalformedInput, rng: Rng): Uint8Array | null {
  const bad = pick(rng, input.paths.length);
  const variant = rng.uniform() < 0.5;
  switch (kind) {
    case 'empty_value':
      return variant ? null : new Uint8Array(0);
    case 'not_json': {
      if (variant) return Uint8Array.of(0xff, 0xfe, 0x7b, 0x7d);
      const text = JSON.stringify(build(input, (_, v) => v));
      return encoder.encode(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
    }
    case 'not_object':
      return encoder.encode(JSON.stringify(variant ? input.values : (input.values[0] ?? 0)));
    case 'missing_field':
      return encoder.encode(
        JSON.stringify(build(input, (j, v) => (j === bad ? (variant ? null : undefined) : v))),
      );
    case 'non_numeric':
      return encoder.encode(
        JSON.stringify(build(input, (j, v) => (j === bad ? (variant ? 'n/a' : true) : v))),
      );
    case 'non_finite': {
      if (variant) return encoder.encode(JSON.stringify(build(input, (j, v) => (j === bad ? 'NaN' : v))));
      const text = JSON.stringify(build(input, (j, v) => (j === bad ? NON_FINITE_PLACEHOLDER : v)));
      // JSON cannot hold Infinity, but 1e999 is valid JSON text that parses to it.
      return encoder.encode(text.replace(`"${NON_FINITE_PLACEHOLDER}"`, '1e999'));
    }
    case 'oversize': {
      const obj = build(input, (_, v) => v);
      const base = JSON.stringify({ ...obj, _padding: '' }).length;
      obj._padding = 'x'.repeat(Math.max(0, input.oversizeBytes - base));
      return encoder.encode(JSON.stringify(obj));
    }
  }
}
