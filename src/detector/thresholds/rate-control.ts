/**
 * Feedback on the realised alert rate (adaptive conformal inference, Gibbs & Candès 2021, on a log
 * scale): the quantile level the threshold is read at is `rate · exp(u)`, and after each batch
 * u ← u + gain · (rate · events − alerts). Summed over any span of N events this telescopes to
 * alerts = rate · N − Δu / gain, so the realised alert count stays within |Δu| / gain of the budget
 * whatever the scores do, as long as u stays inside its clamp. A reference that
 * lags an improving model, a tail the reference censors, or anomalies in the stream only move u, not the
 * long-run rate.
 *
 * The feedback needs a batch or two to react, and the level cannot go below the reference's minimum, so
 * an abrupt shift of the scores, a stale reference meeting a wound-up level, or a run of events more
 * extreme than anything in the reference would still cross in bursts. The alerts are therefore also
 * rationed by a token bucket: credit accrues `rate · (1 + CREDIT_DRIFT)` per event up to `burstAlerts`,
 * and a batch alerts on at most ⌊credit⌋ of its crossings, the most extreme first. Alerts in any span of
 * N events are then at most `burstAlerts + (1 + CREDIT_DRIFT) · rate · N`; the telescoping above holds
 * for the alerts, which the feedback counts.
 */
export class RateController {
  /** Target alert rate per event, in (0, 0.5]. */
  readonly rate: number;
  /** Change of u per alert more or fewer than budgeted (1/gain alerts of error move the level by e). */
  readonly gain: number;
  /** Capacity of the alert credit: the most alerts a burst may raise above `rate` per event. */
  readonly burstAlerts: number;
  private u = 0;
  private credit: number;

  constructor(rate: number, gain = RATE_GAIN, burstAlerts = defaultBurstAlerts(rate)) {
    this.rate = rate;
    this.gain = gain;
    this.burstAlerts = burstAlerts;
    this.credit = burstAlerts;
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

  /** Alert credit left (state), in [0, burstAlerts]. */
  get alertCredit(): number {
    return this.credit;
  }

  set alertCredit(value: number) {
    this.credit = Number.isFinite(value) ? Math.min(Math.max(value, 0), this.burstAlerts) : this.burstAlerts;
  }

  /** Most alerts a batch of `events` may raise now (the credit after this batch's accrual, rounded down). */
  allowance(events: number): number {
    return Math.floor(this.accrued(events));
  }

  /**
   * Accounts for a batch of `events` decided events of which `alerts` (≤ the allowance) alerted. The
   * feedback counts the alerts, not the crossings: when the credit rations a burst, the budget it did
   * not spend is made up later, so the realised rate stays at `rate` (0.46× on the satellite dev set,
   * 32 % anomalies in runs, when the feedback counted the crossings).
   */
  observe(events: number, alerts: number): void {
    this.u = this.clamp(this.u + this.gain * (this.rate * events - alerts));
    this.credit = Math.max(0, this.accrued(events) - alerts);
  }

  private accrued(events: number): number {
    return Math.min(this.burstAlerts, this.credit + (1 + CREDIT_DRIFT) * this.rate * events);
  }

  /** Anti-windup: the level stays within [rate/64, 0.5]. */
  private clamp(u: number): number {
    if (!Number.isFinite(u)) return 0;
    return Math.min(Math.max(u, -MAX_LOG_CORRECTION), Math.log(0.5 / this.rate));
  }
}

/**
 * Credit accrues at `rate · (1 + CREDIT_DRIFT)` per event. At exactly `rate`, the credit of a stream
 * that crosses at `rate` would be a driftless random walk between 0 and the capacity, empty a good part
 * of the time: chance clusters would be rationed and the realised rate fall below the budget (0.92× on a
 * stationary stream). The drift keeps the credit near its capacity unless the crossings run above it.
 */
export const CREDIT_DRIFT = 0.5;

/**
 * Events whose budget the alert credit holds (with at least `MIN_BURST_ALERTS`): a burst may raise as
 * many alerts at once as this many events budget.
 */
export const BURST_EVENTS = 500;
/** Least alert credit, so that the chance clusters of a stationary stream are not rationed. */
export const MIN_BURST_ALERTS = 5;

/** Capacity of the alert credit for `rate`: max(MIN_BURST_ALERTS, rate · BURST_EVENTS). */
export function defaultBurstAlerts(rate: number): number {
  return Math.max(MIN_BURST_ALERTS, rate * BURST_EVENTS);
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
