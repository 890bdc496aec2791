import { z } from 'zod';
import { SerializationError } from '../errors.js';

/** How the standardiser adapts after warm-up. */
export type StandardiserMode = 'freeze' | 'ema';

/** JSON form of a `Standardiser` (version 2: robust start and clipped updates). */
export interface StandardiserState {
  readonly version: 2;
  readonly dim: number;
  readonly mode: StandardiserMode;
  /** Rows learned (after clamping to the bounds). */
  readonly count: number;
  readonly frozen: boolean;
  /** True once the robust start (median/MAD of the first rows) was taken; updates are clipped after it. */
  readonly started: boolean;
  readonly mean: number[];
  readonly variance: number[];
  /** The rows seen before the start, row-major (`count·dim` values); empty once started. */
  readonly pending: number[];
}

const modeSchema = z.enum(['freeze', 'ema']);

/** Version 1: plain running mean and variance, no robust start. */
const v1Schema = z.strictObject({
  version: z.literal(1),
  dim: z.int().positive(),
  mode: modeSchema,
  count: z.int().nonnegative(),
  frozen: z.boolean(),
  mean: z.array(z.number()),
  variance: z.array(z.number().nonnegative()),
});

const v2Schema = z.strictObject({
  version: z.literal(2),
  dim: z.int().positive(),
  mode: modeSchema,
  count: z.int().nonnegative(),
  frozen: z.boolean(),
  started: z.boolean(),
  mean: z.array(z.number()),
  variance: z.array(z.number().nonnegative()),
  pending: z.array(z.number()),
});

/**
 * Parses a saved standardiser state for `dim` features. Version 1 (plain running statistics, written
 * before the robust standardiser) is migrated: its statistics are kept as the start, later updates are
 * clipped (a statistic already distorted by an extreme value is not repaired: reset the model to refit).
 * Throws `SerializationError` for anything else.
 */
export function parseStandardiserState(state: unknown, dim: number): StandardiserState {
  const version = (state as { version?: unknown } | null)?.version;
  const schema = version === 1 ? v1Schema : v2Schema;
  const parsed = schema.safeParse(state);
  if (!parsed.success) {
    const which =
      version === 1 || version === 2
        ? `version ${version}`
        : `version ${JSON.stringify(version)} (this build reads 1 and 2)`;
    throw new SerializationError(`invalid standardiser state, ${which}: ${z.prettifyError(parsed.error)}`);
  }
  const s = parsed.data;
  if (s.dim !== dim || s.mean.length !== dim || s.variance.length !== dim) {
    throw new SerializationError(
      `standardiser state has ${s.dim} features but ${dim} are configured; the feature list changed`,
      { context: { saved: s.dim, configured: dim } },
    );
  }
  if (s.version === 1) return { ...s, version: 2, started: s.count > 0, pending: [] };
  const expected = s.started ? 0 : s.count * dim;
  if (s.pending.length !== expected) {
    throw new SerializationError(
      `standardiser state holds ${s.pending.length} pending values, expected ${expected} (count ${s.count}, started ${s.started})`,
    );
  }
  return s;
}
