import type { Standardiser } from './standardiser.js';

/**
 * The raw warm-up rows of a detector with `learnAfterFreeze`: held while the standardiser (mode 'freeze')
 * still moves, then standardised once with its final statistics, so the model never learns a row in
 * coordinates that change afterwards.
 */
export class WarmupRows {
  private readonly parts: Float32Array[] = [];
  private count = 0;

  constructor(private readonly dim: number) {}

  /** Holds `rows` (raw, row-major, `dim` per row). */
  hold(rows: Float32Array): void {
    this.parts.push(rows.slice());
    this.count += rows.length / this.dim;
  }

  /** The held rows standardised by `standardiser`, followed by `rows` (already standardised); empties. */
  release(standardiser: Standardiser, rows: Float32Array): Float32Array {
    const raw = new Float32Array(this.count * this.dim);
    let at = 0;
    for (const p of this.parts) {
      raw.set(p, at);
      at += p.length;
    }
    const out = new Float32Array(raw.length + rows.length);
    out.set(standardiser.transform(raw, this.count, this.dim), 0);
    out.set(rows, raw.length);
    this.parts.length = 0;
    this.count = 0;
    return out;
  }
}
