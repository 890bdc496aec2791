/**
 * Range breakout ("spatial anomaly" in numenta/NAB's HTM detector): a value beyond the range of the
 * series seen so far, by more than a fraction of that range. It catches what a density model adapting
 * online can miss or absorb: a jump to a level never seen before, at any scale. On the NAB subset it was
 * the largest single gain (docs/detector.md, "NAB evaluation").
 */
import { InvalidOptionError, SerializationError } from '../errors.js';

/** JSON form of a `RangeBreakout`, for checkpoints: the range seen, null before the first value. */
export interface RangeBreakoutState {
  readonly min: number | null;
  readonly max: number | null;
}

/** Tracks one series' all-time range. */
export class RangeBreakout {
  private min: number | null = null;
  private max: number | null = null;

  /** @param tolerance fraction of the range a value must exceed it by (≥ 0; 0 = any new extreme). */
  constructor(readonly tolerance: number) {
    if (!(tolerance >= 0 && Number.isFinite(tolerance))) {
      throw new InvalidOptionError(`range tolerance must be a finite number >= 0, got ${tolerance}`);
    }
  }

  /**
   * Whether `value` lies outside [min − tol·range, max + tol·range] of the values before it (false
   * until the range is non-empty); then widens the range. Non-finite values are ignored.
   */
  next(value: number): boolean {
    if (!Number.isFinite(value)) return false;
    const { min, max } = this;
    let out = false;
    if (min !== null && max !== null && max > min) {
      const slack = (max - min) * this.tolerance;
      out = value > max + slack || value < min - slack;
    }
    this.min = min === null ? value : Math.min(min, value);
    this.max = max === null ? value : Math.max(max, value);
    return out;
  }

  getState(): RangeBreakoutState {
    return { min: this.min, max: this.max };
  }

  /** Restores `getState()` output; throws `SerializationError` when it is inconsistent. */
  setState(state: RangeBreakoutState): void {
    const { min, max } = state;
    if ((min === null) !== (max === null) || (min !== null && max !== null && !(min <= max))) {
      throw new SerializationError('invalid range-breakout state: need min <= max, or both null', {
        context: { min, max },
      });
    }
    this.min = min;
    this.max = max;
  }
}
