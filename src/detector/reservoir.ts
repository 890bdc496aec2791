import type { Rng } from '../core/rng.js';
import { InvalidOptionError } from '../errors.js';

/**
 * Uniform reservoir (Vitter's algorithm R) of past normal feature rows, mixed into training batches so the
 * online model does not forget earlier regimes. Rows are stored standardised, row-major, in one buffer.
 */
export class Reservoir {
  readonly capacity: number;
  readonly dim: number;
  private readonly rows: Float32Array;
  private count = 0;
  private seen = 0;

  constructor(capacity: number, dim: number) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new InvalidOptionError(`reservoir capacity must be an integer ≥ 0, got ${capacity}`);
    }
    if (!Number.isInteger(dim) || dim < 1)
      throw new InvalidOptionError(`reservoir dim must be ≥ 1, got ${dim}`);
    this.capacity = capacity;
    this.dim = dim;
    this.rows = new Float32Array(capacity * dim);
  }

  /** Rows currently held. */
  get size(): number {
    return this.count;
  }

  /** Offers row `i` of the row-major matrix `data`; kept with probability capacity / seen. */
  offer(data: Float32Array, i: number, rng: Rng): void {
    if (this.capacity === 0) return;
    this.seen++;
    let slot: number;
    if (this.count < this.capacity) slot = this.count++;
    else {
      slot = Math.floor(rng.uniform() * this.seen);
      if (slot >= this.capacity) return;
    }
    copyRow(data, i, this.rows, slot, this.dim);
  }

  /** `k` rows drawn uniformly with replacement, row-major; fewer if the reservoir holds none. */
  sample(k: number, rng: Rng): Float32Array {
    if (this.count === 0 || k <= 0) return new Float32Array(0);
    const out = new Float32Array(k * this.dim);
    for (let j = 0; j < k; j++) {
      const r = Math.floor(rng.uniform() * this.count);
      copyRow(this.rows, r, out, j, this.dim);
    }
    return out;
  }

  /** JSON state for checkpoints. */
  getState(): { capacity: number; dim: number; count: number; seen: number; rows: number[] } {
    return {
      capacity: this.capacity,
      dim: this.dim,
      count: this.count,
      seen: this.seen,
      rows: Array.from(this.rows.subarray(0, this.count * this.dim)),
    };
  }

  /** Restores `getState` output; the capacity and dim must match. */
  setState(s: { capacity: number; dim: number; count: number; seen: number; rows: number[] }): void {
    if (s.capacity !== this.capacity || s.dim !== this.dim || s.rows.length !== s.count * s.dim) {
      throw new InvalidOptionError(
        `reservoir state (capacity ${s.capacity}, dim ${s.dim}) does not match this reservoir (capacity ${this.capacity}, dim ${this.dim})`,
      );
    }
    this.rows.set(s.rows);
    this.count = s.count;
    this.seen = s.seen;
  }
}

/**
 * Copies row `from` of `src` to row `to` of `dst` (rows of `d` values), value by value: at these widths a
 * `subarray` view per row cost more than the copy (issue 14, fourth round).
 */
export function copyRow(src: Float32Array, from: number, dst: Float32Array, to: number, d: number): void {
  const a = from * d;
  const b = to * d;
  for (let k = 0; k < d; k++) dst[b + k] = src[a + k]!;
}
