/**
 * Feedback on the realised alert rate (adaptive conformal inference, Gibbs & Candès 2021, on a log
 * scale): the quantile level the threshold is read at is `rate · exp(u)`, and after each batch
 * u ← u + gain · (rate · events − alerts). Summed over any span of N events this telescopes to
 * alerts = rate · N − Δu / gain, so the realised alert count stays within |Δu| / gain of the budget
 * whatever the scores do, as long as u stays inside its clamp. A reference that lags an improving model,
 * a tail the reference censors, or anomalies in the stream only move u, not the long-run rate.
 */
export class RateController {
  /** Target alert rate per event, in (0, 0.5]. */
  readonly rate: number;
  /** Change of u per alert more or fewer than budgeted (1/gain alerts of error move the level by e). */
  readonly gain: number;
  private u = 0;

  constructor(rate: number, gain = RATE_GAIN) {
    this.rate = rate;
    this.gain = gain;
  }

  /** Quantile level the threshold is read at, in (0, 0.5]. */
  get level(): number {
    return Math.min(0.5, this.rate * Math.exp(this.u));
  }

  /** Log of level / rate (0 = no correction); the controller's state. */
  get logLevel(): number {
    return this.u;
  }

  set logLevel(value: number) {
    this.u = this.clamp(value);
  }

  /** Accounts for a batch of `events` decided events of which `alerts` alerted. */
  observe(events: number, alerts: number): void {
    this.u = this.clamp(this.u + this.gain * (this.rate * events - alerts));
  }

  /** Anti-windup: the level stays within [rate/64, 0.5]. */
  private clamp(u: number): number {
    if (!Number.isFinite(u)) return 0;
    return Math.min(Math.max(u, -MAX_LOG_CORRECTION), Math.log(0.5 / this.rate));
  }
}

/**
 * Default gain: ten alerts more than budgeted lower the level by a factor e. Larger follows faster
 * shifts but makes the threshold jitter; the budget error bound |Δu|/gain shrinks with it.
 */
export const RATE_GAIN = 0.1;
/**
 * Most the level may fall below the rate, as a log factor (ln 64): bounds the wind-up a long burst can
 * store, i.e. the clean events it takes afterwards to return to the rate (about ln 64/(gain·rate)).
 */
export const MAX_LOG_CORRECTION = Math.log(64);
