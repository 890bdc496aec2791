/**
 * The context of the next value of one series, at two time scales, for the conditional time-series
 * model: the last `lags` steps (short spikes) and the last value's and a fast average's distance from a
 * slow running mean (slow shifts), the steps in units of the running root-mean-square step, the
 * distances in units of the running standard deviation, plus the time of day. The target is the next
 * step, in step units.
 */

/** Options of `SeriesContext`. */
export interface ContextOptions {
  /** Past steps x_{t−i} − x_{t−i−1}, i = 1…lags, in the context. */
  readonly lags: number;
  /** Weight of each new value in the slow running mean and variance (and the scale); e.g. 0.002. */
  readonly slowAlpha: number;
  /** Weight of each new value in the fast running mean; e.g. 0.1. */
  readonly fastAlpha: number;
  /** Append (sin, cos) of the UTC time of day. */
  readonly timeOfDay: boolean;
  /**
   * Append the step one day earlier and the change over a day (the day in points from the series' first
   * sampling interval; off when a day is under 2 or over `MAX_DAY_POINTS` points).
   */
  readonly daily?: boolean;
  /**
   * With `daily`: the target is the change since the same time a day earlier, x_t − x_{t−day}, in step
   * units (the step x_t − x_{t−1} until a day of history exists), so a missing or changed daily shape
   * is surprising where it starts. The density is still that of x_t given the context.
   */
  readonly seasonalTarget?: boolean;
  /**
   * Longer scales: per entry s, append the change over the last s points, x_{t−1} − x_{t−1−s}, in
   * units of the running standard deviation (0 until s + 1 values were seen). Absent = none.
   */
  readonly scales?: readonly number[];
}

/** Longest day, in points, the daily context keeps (a value history of that length per key). */
export const MAX_DAY_POINTS = 1500;

/** Length of the context vector. */
export function contextLength(o: ContextOptions): number {
  return o.lags + 2 + (o.timeOfDay ? 2 : 0) + (o.daily === true ? 2 : 0) + (o.scales?.length ?? 0);
}

const DAY_MS = 86_400_000;
/** Context entries are clipped to ±CLIP (the target is not). */
const CLIP = 10;
/** Target steps are clipped to ±TARGET_CLIP standard deviations (keeps a flat series finite). */
const TARGET_CLIP = 1e4;

const clip = (v: number, c: number): number => Math.min(c, Math.max(v, -c));

/** What `SeriesContext.next` returns for one value. */
export interface ContextStep {
  /** The context (before the value); null while the history is shorter than `lags + 1`. */
  readonly context: Float64Array | null;
  /** The value's step in scale units (the model's target). */
  readonly target: number;
  /** Its change over a day in the same units (= `target` until the day is known; needs `daily`). */
  readonly alt: number;
  /** log of the scale: log p(x) = log p(target) − logScale. */
  readonly logScale: number;
}

/** One series' running state. */
export class SeriesContext {
  private readonly values: number[] = [];
  private count = 0;
  private mean = 0;
  private variance = 0;
  private stepVariance = 0;
  private fast = 0;
  private firstTimestamp: number | undefined;
  /** Points per day once known (0 = daily context off). */
  private day: number | undefined;

  constructor(readonly options: ContextOptions) {}

  /** Context and target of `value` at `timestamp` (epoch ms); then learns the value. */
  next(value: number, timestamp: number): ContextStep {
    const { lags } = this.options;
    const step = this.scale(this.stepVariance);
    this.learnDay(timestamp);
    const { target, alt } = this.targets(value, step);
    const context = this.values.length > lags ? this.context(timestamp, step) : null;
    this.learn(value);
    return { context, target, alt, logScale: Math.log(step) };
  }

  /**
   * The step of `value` and its change over a day (the step until a day of history exists), in step
   * units; `target` is the step, or with `seasonalTarget` the change over a day.
   */
  private targets(value: number, step: number): { target: number; alt: number } {
    const v = this.values;
    const p = this.day ?? 0;
    const prev = v[v.length - 1];
    const stepTarget = prev === undefined ? 0 : clip((value - prev) / step, TARGET_CLIP);
    const dayAgo = p > 0 && v.length >= p ? v[v.length - p] : undefined;
    const alt = dayAgo === undefined ? stepTarget : clip((value - dayAgo) / step, TARGET_CLIP);
    return { target: this.options.seasonalTarget === true ? alt : stepTarget, alt };
  }

  /** A running standard deviation, floored relative to the level (a flat series has none). */
  private scale(variance: number): number {
    const floor = 1e-6 * Math.max(Math.abs(this.mean), 1e-3);
    return Math.max(Math.sqrt(variance), floor);
  }

  private context(timestamp: number, step: number): Float64Array {
    const { lags, timeOfDay } = this.options;
    const out = new Float64Array(contextLength(this.options));
    const v = this.values;
    const last = v.length - 1;
    const level = this.scale(this.variance);
    for (let i = 0; i < lags; i++) out[i] = clip((v[last - i]! - v[last - i - 1]!) / step, CLIP);
    out[lags] = clip((v[last]! - this.mean) / level, CLIP);
    out[lags + 1] = clip((this.fast - this.mean) / level, CLIP);
    let j = lags + 2;
    if (timeOfDay) {
      const angle = (2 * Math.PI * (((timestamp % DAY_MS) + DAY_MS) % DAY_MS)) / DAY_MS;
      out[j++] = Math.sin(angle);
      out[j++] = Math.cos(angle);
    }
    const p = this.day ?? 0;
    if (this.options.daily === true) {
      if (p > 0 && last - p >= 0) {
        out[j] = clip((v[last - p + 1]! - v[last - p]!) / step, CLIP);
        out[j + 1] = clip((v[last]! - v[last - p]!) / level, CLIP);
      }
      j += 2;
    }
    for (const s of this.options.scales ?? []) {
      if (last - s >= 0) out[j] = clip((v[last]! - v[last - s]!) / level, CLIP);
      j++;
    }
    return out;
  }

  /** Points per day, from the first sampling interval. */
  private learnDay(timestamp: number): void {
    if (this.options.daily !== true || this.day !== undefined) return;
    if (this.firstTimestamp === undefined) {
      this.firstTimestamp = timestamp;
      return;
    }
    const dt = timestamp - this.firstTimestamp;
    if (!(dt > 0)) return;
    const p = Math.round(DAY_MS / dt);
    this.day = p >= 2 && p <= MAX_DAY_POINTS ? p : 0;
  }

  /**
   * Running mean, variance and mean squared step: plain averages for the first 1/alpha values, then
   * exponential.
   */
  private learn(value: number): void {
    const prev = this.values[this.values.length - 1];
    if (prev !== undefined) {
      const b = Math.max(1 / this.count, this.options.slowAlpha);
      this.stepVariance += b * ((value - prev) ** 2 - this.stepVariance);
    }
    this.values.push(value);
    const longest = Math.max(this.options.lags, this.day ?? 0, ...(this.options.scales ?? []));
    if (this.values.length > longest + 1) this.values.shift();
    this.count++;
    const a = Math.max(1 / this.count, this.options.slowAlpha);
    const d = value - this.mean;
    this.mean += a * d;
    this.variance = (1 - a) * (this.variance + a * d * d);
    const f = Math.max(1 / this.count, this.options.fastAlpha);
    this.fast += f * (value - this.fast);
  }
}
