import type { Rng } from '../core/rng.js';
import { InvalidOptionError } from '../errors.js';

/** Share of the detection rows one value must hold for its feature to count as having a point mass. */
export const DEQUANTISE_ATOM_SHARE = 0.02;
/** Least noise width, standardised units (σ = 1): what an atom of a continuous feature is spread over. */
export const DEQUANTISE_MIN_WIDTH = 0.05;

/**
 * Training-time dequantisation of discrete features. A continuous density fitted to a feature with point
 * masses (integer counts, values piled up at a bound) grows spikes of unbounded density on them, which
 * rank every row at an atom as extremely normal whatever its other features say. Before learning, each
 * discrete feature of every training row gets uniform noise of width h, so the model learns a density
 * that spreads each atom over its cell; scoring uses the raw rows.
 *
 * Detection (automatic, once, from the first `rows` standardised training rows): a feature is discrete
 * when one value holds at least 2 % of the rows or when at most a quarter of the values are distinct.
 * h = max(the smallest gap between its distinct values, 0.05) in standardised units: one grid step for
 * integer-valued features, 0.05σ for atoms of otherwise continuous features. Not checkpointed: a restored
 * detector detects again from the rows it learns next.
 */
export class Dequantiser {
  private readonly pending: number[][];
  private widths: Float64Array | undefined;

  /** `rows`: how many training rows detection waits for (≥ 16). */
  constructor(
    readonly dim: number,
    readonly rows: number,
  ) {
    if (!Number.isInteger(rows) || rows < 16) {
      throw new InvalidOptionError(`dequantiser: rows must be an integer >= 16, got ${rows}`);
    }
    this.pending = Array.from({ length: dim }, () => []);
  }

  /** Noise width per feature once detected (0 = continuous), else undefined. */
  get noiseWidths(): Float64Array | undefined {
    return this.widths;
  }

  /** Offers standardised training rows to the detection until it has seen enough. */
  observe(rows: Float32Array): void {
    if (this.widths !== undefined) return;
    const d = this.dim;
    for (let i = 0; i < rows.length / d && (this.pending[0]?.length ?? 0) < this.rows; i++) {
      for (let j = 0; j < d; j++) this.pending[j]?.push(rows[i * d + j] as number);
    }
    if ((this.pending[0]?.length ?? 0) < this.rows) return;
    this.widths = Float64Array.from(this.pending, (col) => noiseWidth(col));
    for (const col of this.pending) col.length = 0;
  }

  /** Adds the noise to a copy of `rows` (unchanged until detection is done or when nothing is discrete). */
  apply(rows: Float32Array, rng: Rng): Float32Array {
    const w = this.widths;
    if (w === undefined || w.every((h) => h === 0)) return rows;
    const d = this.dim;
    const out = rows.slice();
    for (let i = 0; i < out.length; i++) {
      const h = w[i % d] as number;
      if (h > 0) out[i] = (out[i] as number) + (rng.uniform() - 0.5) * h;
    }
    return out;
  }
}

/** The noise width of one feature from its detection values (0 = continuous). */
export function noiseWidth(values: readonly number[]): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let distinct = 0;
  let run = 0;
  let maxRun = 0;
  let minGap = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = sorted[i] as number;
    if (i > 0 && v === sorted[i - 1]) {
      run++;
    } else {
      if (i > 0) minGap = Math.min(minGap, v - (sorted[i - 1] as number));
      distinct++;
      run = 1;
    }
    maxRun = Math.max(maxRun, run);
  }
  const discrete = maxRun >= Math.max(2, DEQUANTISE_ATOM_SHARE * n) || distinct <= n / 4;
  if (!discrete || distinct < 2) return discrete ? DEQUANTISE_MIN_WIDTH : 0;
  return Math.max(minGap, DEQUANTISE_MIN_WIDTH);
}
