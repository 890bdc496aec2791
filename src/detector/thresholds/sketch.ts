import { LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';
import { z } from 'zod';
import { SerializationError } from '../../errors.js';

/**
 * Thin helpers around `@datadog/sketches-js` (DDSketch, relative-error quantile sketch).
 *
 * Two gaps in sketches-js 2.1.1 are bridged here, using only its public API:
 * - `merge` forgets the negative store (DataDog/sketches-js#22) while still adding its count, so
 *   sketches of log-likelihoods (mostly negative) merge wrongly. `mergeInto` detects and repairs that.
 * - `toProto`/`fromProto` need `protobufjs`, which the package does not depend on, so sketches are
 *   serialized as sparse `(bin key, count)` lists and rebuilt with `accept(binValue, count)`.
 */
export type Sketch = LogCollapsingLowestDenseDDSketch;

/** Bins kept per store; the smallest magnitudes collapse first, so the tails keep full accuracy. */
export const DEFAULT_BIN_LIMIT = 2048;

/** Creates an empty sketch with relative value accuracy `relativeAccuracy` (e.g. 0.005 = ±0.5 %). */
export function createSketch(relativeAccuracy: number, binLimit = DEFAULT_BIN_LIMIT): Sketch {
  return new LogCollapsingLowestDenseDDSketch({ relativeAccuracy, binLimit });
}

/** Merges `source` into `target`, including the negative store that sketches-js#22 drops. */
export function mergeInto(target: Sketch, source: Sketch): void {
  const expectedNegative = target.negativeStore.count + source.negativeStore.count;
  target.merge(source);
  if (target.negativeStore.count !== expectedNegative) target.negativeStore.merge(source.negativeStore);
}

/**
 * The value every member of `x`'s bin is reported as (the bin's representative), so that ties with
 * sketch quantiles can be detected exactly. 0 for values the sketch treats as zero.
 */
export function binValue(sketch: Sketch, x: number): number {
  const { mapping } = sketch;
  if (x > mapping.minPossible) return mapping.value(mapping.key(x));
  if (x < -mapping.minPossible) return -mapping.value(mapping.key(-x));
  return 0;
}

/** JSON form of one sketch: zero count plus sparse `[binKey, count]` pairs per sign. */
export interface SketchState {
  readonly zeroCount: number;
  readonly positive: ReadonlyArray<readonly [number, number]>;
  readonly negative: ReadonlyArray<readonly [number, number]>;
}

const binsSchema = z.array(z.tuple([z.int(), z.number().positive()]));

/** zod schema of `SketchState`, for validating checkpoints. */
export const sketchStateSchema = z.strictObject({
  zeroCount: z.number().nonnegative(),
  positive: binsSchema,
  negative: binsSchema,
});

function storeBins(store: Sketch['store']): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  store.bins.forEach((count, i) => {
    if (count > 0) out.push([i + store.offset, count]);
  });
  return out;
}

/** Serializes a sketch's bins (summary statistics such as min/max are not kept). */
export function sketchToState(sketch: Sketch): SketchState {
  return {
    zeroCount: sketch.zeroCount,
    positive: storeBins(sketch.store),
    negative: storeBins(sketch.negativeStore),
  };
}

/** Rebuilds a sketch from `sketchToState` output; every bin lands back in the same key. */
export function sketchFromState(state: SketchState, relativeAccuracy: number, binLimit?: number): Sketch {
  const sketch = createSketch(relativeAccuracy, binLimit);
  const { mapping } = sketch;
  for (const [key, count] of state.positive) sketch.accept(mapping.value(key), count);
  for (const [key, count] of state.negative) sketch.accept(-mapping.value(key), count);
  if (state.zeroCount > 0) sketch.accept(0, state.zeroCount);
  const expected = state.zeroCount + sum(state.positive) + sum(state.negative);
  if (Math.abs(sketch.count - expected) > 1e-9 * Math.max(1, expected)) {
    throw new SerializationError(`sketch state does not round-trip: ${sketch.count} != ${expected}`);
  }
  return sketch;
}

function sum(bins: ReadonlyArray<readonly [number, number]>): number {
  let s = 0;
  for (const [, c] of bins) s += c;
  return s;
}
