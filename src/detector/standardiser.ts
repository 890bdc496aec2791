import { InvalidOptionError } from '../errors.js';
import { robustColumn } from './robust-start.js';
import {
  parseStandardiserState,
  type StandardiserMode,
  type StandardiserState,
} from './standardiser-state.js';

export type { StandardiserMode, StandardiserState } from './standardiser-state.js';

/** Options of `Standardiser`. */
export interface StandardiserOptions {
  /** Number of features per row. */
  readonly dim: number;
  /** 'freeze': statistics until frozen; 'ema': exponentially weighted forever. */
  readonly mode: StandardiserMode;
  /** EMA weight of each new row in (0, 1) (mode 'ema'; default 0.001 ≈ last 1000 rows). */
  readonly emaAlpha?: number;
  /** Floor on σ so constant features do not divide by zero (default 1e-6, feature units). */
  readonly minStd?: number;
  /** Freeze automatically once this many rows were seen (mode 'freeze'); rows beyond it are ignored. */
  readonly freezeAfter?: number;
  /** Deviations beyond this many σ are clipped to it before they update μ and σ (default 8; ≥ 1). */
  readonly clip?: number;
  /** Rows of the robust start (median and MAD), default 128; fewer when frozen before. */
  readonly startRows?: number;
  /** Per-feature lower bounds (feature units): values are raised to them before learning (default −∞). */
  readonly lower?: readonly number[];
  /** Per-feature upper bounds (feature units): values are lowered to them before learning (default +∞). */
  readonly upper?: readonly number[];
}

/**
 * Per-feature standardisation z = (x − μ) / σ, σ = max(√var, minStd), in float64, robust to extreme values.
 *
 * - **Robust start.** The first `startRows` rows (default 128, or fewer if frozen before) are kept; while
 *   they accumulate, and when they are complete, μ = median and σ = 1.4826·MAD of them (see
 *   `robustColumn`), so up to half of them can be absurd without moving the statistics far.
 * - **Clipped updates** afterwards: the n-th row updates with weight αₙ (1/n; in 'ema' mode
 *   max(emaAlpha, 1/n)) and its deviation clipped to ±`clip`·s, s = max(σ, minStd):
 *   δ = clamp(x − μ, ±clip·s), μ ← μ + αₙ·δ, var ← (1 − αₙ)(var + αₙ·δ²). One absurd value then moves μ
 *   by at most αₙ·clip·σ and multiplies var by at most (1 − αₙ)(1 + αₙ·clip²); rows that keep falling
 *   outside (a real change of scale) still grow σ geometrically.
 * - **Bounds.** Values are clamped to [`lower`, `upper`] before they are learned; `transform` uses the raw
 *   values, so an out-of-range value is still scored as what it is.
 *
 * Deterministic and independent of how rows are batched. Before any row, μ = 0 and σ = 1.
 */
export class Standardiser {
  readonly dim: number;
  readonly mode: StandardiserMode;
  readonly emaAlpha: number;
  readonly minStd: number;
  readonly freezeAfter: number;
  readonly clip: number;
  readonly startRows: number;
  private readonly lower: Float64Array;
  private readonly upper: Float64Array;
  private count = 0;
  private isFrozen = false;
  private started = false;
  private pending: number[] = [];
  private mean: Float64Array;
  private variance: Float64Array;

  constructor(options: StandardiserOptions) {
    const { dim, mode } = options;
    const emaAlpha = options.emaAlpha ?? 0.001;
    const minStd = options.minStd ?? 1e-6;
    const freezeAfter = options.freezeAfter ?? Number.POSITIVE_INFINITY;
    const clip = options.clip ?? 8;
    const startRows = options.startRows ?? 128;
    if (!Number.isInteger(dim) || dim < 1)
      throw new InvalidOptionError(`dim must be an integer >= 1, got ${dim}`);
    if (mode !== 'freeze' && mode !== 'ema') {
      throw new InvalidOptionError(`mode must be 'freeze' or 'ema', got ${String(mode)}`);
    }
    if (!(emaAlpha > 0 && emaAlpha < 1))
      throw new InvalidOptionError(`emaAlpha must be in (0, 1), got ${emaAlpha}`);
    if (!(minStd > 0 && Number.isFinite(minStd))) {
      throw new InvalidOptionError(`minStd must be a positive finite number, got ${minStd}`);
    }
    if (!(freezeAfter >= 1)) throw new InvalidOptionError(`freezeAfter must be >= 1, got ${freezeAfter}`);
    if (!(clip >= 1)) throw new InvalidOptionError(`clip must be >= 1 (σ units), got ${clip}`);
    if (!Number.isInteger(startRows) || startRows < 1) {
      throw new InvalidOptionError(`startRows must be an integer >= 1, got ${startRows}`);
    }
    this.dim = dim;
    this.mode = mode;
    this.emaAlpha = emaAlpha;
    this.minStd = minStd;
    this.freezeAfter = freezeAfter;
    this.clip = clip;
    this.startRows = startRows;
    this.lower = bounds(options.lower, dim, Number.NEGATIVE_INFINITY, 'lower');
    this.upper = bounds(options.upper, dim, Number.POSITIVE_INFINITY, 'upper');
    this.lower.forEach((lo, j) => {
      if (!(lo < this.upper[j]!)) {
        throw new InvalidOptionError(`lower[${j}] = ${lo} must be below upper[${j}] = ${this.upper[j]}`);
      }
    });
    this.mean = new Float64Array(dim);
    this.variance = new Float64Array(dim).fill(1);
  }

  /** Rows the statistics rest on. */
  get observations(): number {
    return this.count;
  }

  /** True once updates are ignored (mode 'freeze' only). */
  get frozen(): boolean {
    return this.isFrozen;
  }

  /** Stops updating (mode 'freeze'; call at the end of warm-up). No-op in 'ema' mode. */
  freeze(): void {
    if (this.mode !== 'freeze') return;
    if (!this.started && this.count > 0) this.start();
    this.isFrozen = true;
  }

  /** Learns from `n` rows of `d` features (row-major), clamped to the bounds. Ignored once frozen. */
  update(rows: Float32Array, n: number, d: number): void {
    this.checkShape(rows, n, d);
    const x = new Float64Array(d);
    for (let r = 0; r < n && !this.isFrozen; r++) {
      for (let j = 0; j < d; j++) x[j] = Math.min(Math.max(rows[r * d + j]!, this.lower[j]!), this.upper[j]!);
      this.count += 1;
      if (this.started) this.clippedUpdate(x);
      else {
        for (const v of x) this.pending.push(v);
        if (this.count >= this.startRows || this.count >= this.freezeAfter) this.start();
      }
      if (this.mode === 'freeze' && this.count >= this.freezeAfter) this.isFrozen = true;
    }
    if (!this.started && this.count > 0) this.fitPending();
  }

  /** Standardises `n` rows of `d` features into a new array (raw values: no clamping to the bounds). */
  transform(rows: Float32Array, n: number, d: number): Float32Array {
    this.checkShape(rows, n, d);
    const std = this.std();
    const out = new Float32Array(n * d);
    for (let r = 0; r < n; r++) {
      const base = r * d;
      for (let j = 0; j < d; j++) out[base + j] = (rows[base + j]! - this.mean[j]!) / std[j]!;
    }
    return out;
  }

  /**
   * log|det ∂z/∂x| = Σⱼ −log σⱼ, in nats. Add it to a log-likelihood of standardised rows to get the
   * log-density in original feature units.
   */
  logDetJacobian(): number {
    let s = 0;
    for (const sd of this.std()) s -= Math.log(sd);
    return s;
  }

  /** Current per-feature means (medians during the robust start), feature units. */
  getMean(): Float64Array {
    return Float64Array.from(this.mean);
  }

  /** Current per-feature σ (after the `minStd` floor), feature units. */
  std(): Float64Array {
    const out = new Float64Array(this.dim);
    for (let j = 0; j < this.dim; j++) out[j] = Math.max(Math.sqrt(this.variance[j]!), this.minStd);
    return out;
  }

  getState(): StandardiserState {
    return {
      version: 2,
      dim: this.dim,
      mode: this.mode,
      count: this.count,
      frozen: this.isFrozen,
      started: this.started,
      mean: Array.from(this.mean),
      variance: Array.from(this.variance),
      pending: [...this.pending],
    };
  }

  /**
   * Restores `getState()` output (version 2, or a version-1 state, migrated: see
   * `parseStandardiserState`); throws `SerializationError` when it is malformed or of another dim.
   */
  setState(state: unknown): void {
    const s = parseStandardiserState(state, this.dim);
    this.count = s.count;
    this.isFrozen = this.mode === 'freeze' && s.frozen;
    this.started = s.started;
    this.pending = [...s.pending];
    this.mean = Float64Array.from(s.mean);
    this.variance = Float64Array.from(s.variance);
  }

  /** The robust start: median/MAD of the pending rows; later rows update by clipped steps. */
  private start(): void {
    this.fitPending();
    this.started = true;
    this.pending = [];
  }

  private fitPending(): void {
    const n = this.pending.length / this.dim;
    for (let j = 0; j < this.dim; j++) {
      const { mean, variance } = robustColumn(this.pending, n, this.dim, j);
      this.mean[j] = mean;
      this.variance[j] = variance;
    }
  }

  private clippedUpdate(x: Float64Array): void {
    const a = this.mode === 'ema' ? Math.max(this.emaAlpha, 1 / this.count) : 1 / this.count;
    for (let j = 0; j < this.dim; j++) {
      const limit = this.clip * Math.max(Math.sqrt(this.variance[j]!), this.minStd);
      const delta = Math.min(Math.max(x[j]! - this.mean[j]!, -limit), limit);
      this.mean[j] = this.mean[j]! + a * delta;
      this.variance[j] = (1 - a) * (this.variance[j]! + a * delta * delta);
    }
  }

  private checkShape(rows: Float32Array, n: number, d: number): void {
    if (d !== this.dim)
      throw new InvalidOptionError(`rows have ${d} features but the standardiser has ${this.dim}`);
    if (!Number.isInteger(n) || n < 0 || rows.length < n * d) {
      throw new InvalidOptionError(`rows hold ${rows.length} values, fewer than n·d = ${n}·${d}`);
    }
  }
}

function bounds(
  values: readonly number[] | undefined,
  dim: number,
  fill: number,
  name: string,
): Float64Array {
  if (values === undefined) return new Float64Array(dim).fill(fill);
  if (values.length !== dim) {
    throw new InvalidOptionError(`${name} has ${values.length} bounds, one per feature (${dim}) is needed`);
  }
  return Float64Array.from(values, (v) => (Number.isNaN(v) ? fill : v));
}
