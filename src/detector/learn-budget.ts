/** `LearnBudget`: how many of the events due for learning the model actually trains on. */
import { InvalidOptionError } from '../errors.js';

/** Options of a `LearnBudget`. */
export interface LearnBudgetOptions {
  /** Largest share of events learned from, in (0, 1] (1 = every batch trains). */
  readonly maxFraction: number;
  /** Smallest share the adaptive budget goes down to, in (0, maxFraction]. */
  readonly minFraction: number;
  /**
   * Adapt the share to the backlog reported by `observeBacklog` (live sources). Without it the share stays
   * at `maxFraction` and admissions depend on event counts only (deterministic).
   */
  readonly adaptive: boolean;
  /** Events the `learnedRatio` moving average spans (default 10 000). */
  readonly window?: number;
}

/** Share removed on a backlogged batch (multiplicative decrease). */
const DECREASE = 0.5;
/** Share added on a batch without backlog (additive increase: 1/16 per batch). */
const INCREASE = 1 / 16;

function checkFraction(name: string, value: number, max: number): void {
  if (!(value > 0 && value <= max)) {
    throw new InvalidOptionError(`${name} must be in (0, ${max}], got ${value}`, {
      context: { [name]: value },
    });
  }
}

/**
 * Decides, per batch of events due for learning, whether the optimizer steps run, so that on average a
 * share `fraction` of those events is learned from. Skipping whole steps is what saves time: a step's
 * cost hardly depends on its row count at these sizes. The choice is a deterministic credit count (each
 * batch adds `fraction · n` event credits; a batch trains when the credit covers its `n` events), so the
 * learned batches are spread evenly over the stream and the same input gives the same choices.
 *
 * Adaptive mode is AIMD on the backlog: when more than one full batch of records waits behind the batch
 * being processed, the share halves (down to `minFraction`); otherwise it grows by 1/16 per batch (up to
 * `maxFraction`). Lag therefore stays bounded whenever scoring plus `minFraction` of the training keeps up.
 */
export class LearnBudget {
  private readonly o: Required<LearnBudgetOptions>;
  private share: number;
  private credit = 0;
  private offeredEvents = 0;
  private learnedEvents = 0;
  private recent = 1;

  constructor(options: LearnBudgetOptions) {
    checkFraction('maxFraction', options.maxFraction, 1);
    checkFraction('minFraction', options.minFraction, options.maxFraction);
    const window = options.window ?? 10_000;
    if (!Number.isInteger(window) || window < 1) {
      throw new InvalidOptionError(`window must be an integer >= 1, got ${window}`);
    }
    this.o = { ...options, window };
    this.share = options.maxFraction;
  }

  /** The share of events currently admitted for learning. */
  get fraction(): number {
    return this.share;
  }

  /** Events offered for learning so far (batches due to train). */
  get offered(): number {
    return this.offeredEvents;
  }

  /** Events of the batches that did train. */
  get learned(): number {
    return this.learnedEvents;
  }

  /** Share of the last ~`window` offered events that were learned from (1 before any). */
  get learnedRatio(): number {
    return this.recent;
  }

  /**
   * Adaptive mode: `waiting` records are queued behind a batch of up to `batchSize` events. No-op when
   * not adaptive.
   */
  observeBacklog(waiting: number, batchSize: number): void {
    if (!this.o.adaptive) return;
    const { minFraction, maxFraction } = this.o;
    this.share =
      waiting > batchSize
        ? Math.max(minFraction, this.share * DECREASE)
        : Math.min(maxFraction, this.share + INCREASE);
  }

  /**
   * A batch of `n` events is due for learning: whether it trains. `force` (warm-up) always trains and
   * still counts. The credit is capped at one batch, so a share raised after a lull does not burst.
   */
  admit(n: number, force = false): boolean {
    if (n <= 0) return false;
    this.credit = Math.min(this.credit + this.share * n, n);
    // The tolerance absorbs float rounding of shares like 0.3125 added up over a few batches.
    const ok = force || this.credit >= n * (1 - 1e-9);
    if (ok) this.credit = Math.max(0, this.credit - n);
    this.offeredEvents += n;
    if (ok) this.learnedEvents += n;
    const a = Math.min(1, n / this.o.window);
    this.recent += a * ((ok ? 1 : 0) - this.recent);
    return ok;
  }
}
