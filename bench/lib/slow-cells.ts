import type { RateResult } from './timing.js';

/** What is timed in a cell. */
export type CellMode = 'score' | 'train';

/** Cells predicted slower than this multiple of the cap are not run at all. */
const MARGIN = 2;

/**
 * Predicts which benchmark cells would exceed the per-call cap, so that a slow backend does not spend
 * minutes on cold calls that are then discarded. A cell is predicted too slow when the same model and
 * mode was too slow at a smaller dimension or batch, or when its time per row at a smaller batch of the
 * same dimension, scaled linearly to this batch, exceeds `MARGIN` × the cap. Cells must be visited in
 * ascending dimension, then ascending batch order.
 */
export class SlowCellPredictor {
  private readonly maxCallMs: number;
  /** `model|mode` → smallest (dim, batch) found too slow. */
  private readonly tooSlow = new Map<string, { dim: number; batch: number }[]>();
  /** `model|dim|mode` → ms per row measured at the smallest batch. */
  private readonly msPerRow = new Map<string, number>();

  constructor(maxCallMs: number) {
    this.maxCallMs = maxCallMs;
  }

  /** True when the cell should be reported as too slow without running it. */
  predictTooSlow(model: string, dim: number, batch: number, mode: CellMode): boolean {
    const slow = this.tooSlow.get(`${model}|${mode}`) ?? [];
    if (slow.some((s) => s.dim <= dim && s.batch <= batch)) return true;
    const perRow = this.msPerRow.get(`${model}|${dim}|${mode}`);
    return perRow !== undefined && perRow * batch > MARGIN * this.maxCallMs;
  }

  /** Records a cell's outcome (undefined: not measured because scoring was already too slow). */
  record(model: string, dim: number, batch: number, mode: CellMode, result: RateResult | undefined): void {
    if (result === undefined || result.kind === 'too-slow') {
      const key = `${model}|${mode}`;
      this.tooSlow.set(key, [...(this.tooSlow.get(key) ?? []), { dim, batch }]);
      return;
    }
    const key = `${model}|${dim}|${mode}`;
    if (!this.msPerRow.has(key)) this.msPerRow.set(key, result.msPerCall / batch);
  }
}
