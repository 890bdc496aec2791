import { z } from 'zod';

/** An integer in [min, max]. */
export const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.int().min(min).max(max);
/** A non-empty string. */
export const nonEmpty = z.string().min(1);
