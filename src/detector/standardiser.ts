import { z } from 'zod';
import { InvalidOptionError, SerializationError } from '../errors.js';

/** How the standardiser adapts after warm-up. */
export type StandardiserMode = 'freeze' | 'ema';

/** Options of `Standardiser`. */
export interface StandardiserOptions {
  /** Number of features per row. */
  readonly dim: number;
  /** 'freeze': exact running statistics until frozen; 'ema': exponentially weighted forever. */
  readonly mode: StandardiserMode;
  /** EMA weight of each new row in (0, 1) (mode 'ema'; default 0.001 ≈ last 1000 rows). */
  readonly emaAlpha?: number;
  /** Floor on σ so constant features do not divide by zero (default 1e-6, feature units). */
  readonly minStd?: number;
  /** Freeze automatically once this many rows were seen (mode 'freeze'); rows beyond it are ignored. */
  readonly freezeAfter?: number;
}

/** JSON form of a `Standardiser`. */
export interface StandardiserState {
  readonly version: 1;
  readonly dim: number;
  readonly mode: StandardiserMode;
  readonly count: number;
  readonly frozen: boolean;
  readonly mean: number[];
  readonly variance: number[];
}

const stateSchema = z.strictObject({
  version: z.literal(1),
  dim: z.int().positive(),
  mode: z.enum(['freeze', 'ema']),
  count: z.int().nonnegative(),
  frozen: z.boolean(),
  mean: z.array(z.number()),
  variance: z.array(z.number().nonnegative()),
});

/**
 * Per-feature standardisation z = (x − μ) / σ, σ = max(√var, minStd), in float64.
 *
 * Every update uses the weight αₙ = 1/n for the n-th row (exact running mean and population variance,
 * Welford-equivalent: var ← (1 − αₙ)(var + αₙ·δ²)); in 'ema' mode αₙ = max(emaAlpha, 1/n), so the estimate
 * is exact until ~1/emaAlpha rows and exponentially weighted afterwards. Before any row, μ = 0 and σ = 1.
 */
export class Standardiser {
  readonly dim: number;
  readonly mode: StandardiserMode;
  readonly emaAlpha: number;
  readonly minStd: number;
  readonly freezeAfter: number;
  private count = 0;
  private isFrozen = false;
  private mean: Float64Array;
  private variance: Float64Array;

  constructor(options: StandardiserOptions) {
    const { dim, mode } = options;
    const emaAlpha = options.emaAlpha ?? 0.001;
    const minStd = options.minStd ?? 1e-6;
    const freezeAfter = options.freezeAfter ?? Number.POSITIVE_INFINITY;
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
    this.dim = dim;
    this.mode = mode;
    this.emaAlpha = emaAlpha;
    this.minStd = minStd;
    this.freezeAfter = freezeAfter;
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
    if (this.mode === 'freeze') this.isFrozen = true;
  }

  /** Learns from `n` rows of `d` features (row-major). Ignored once frozen. */
  update(rows: Float32Array, n: number, d: number): void {
    this.checkShape(rows, n, d);
    for (let r = 0; r < n && !this.isFrozen; r++) {
      this.count += 1;
      const a = this.mode === 'ema' ? Math.max(this.emaAlpha, 1 / this.count) : 1 / this.count;
      const base = r * d;
      for (let j = 0; j < d; j++) {
        const delta = rows[base + j]! - this.mean[j]!;
        this.mean[j] = this.mean[j]! + a * delta;
        // On the first row a = 1, so the σ = 1 prior is replaced, not averaged in.
        this.variance[j] = (1 - a) * (this.variance[j]! + a * delta * delta);
      }
      if (this.mode === 'freeze' && this.count >= this.freezeAfter) this.isFrozen = true;
    }
  }

  /** Standardises `n` rows of `d` features into a new array. */
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

  /** Current per-feature means, feature units. */
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
      version: 1,
      dim: this.dim,
      mode: this.mode,
      count: this.count,
      frozen: this.isFrozen,
      mean: Array.from(this.mean),
      variance: Array.from(this.variance),
    };
  }

  /** Restores `getState()` output; throws `SerializationError` when it is malformed or of another dim. */
  setState(state: unknown): void {
    const parsed = stateSchema.safeParse(state);
    if (!parsed.success) {
      throw new SerializationError(`invalid standardiser state: ${z.prettifyError(parsed.error)}`);
    }
    const s = parsed.data;
    if (s.dim !== this.dim || s.mean.length !== this.dim || s.variance.length !== this.dim) {
      throw new SerializationError(
        `standardiser state has ${s.dim} features but ${this.dim} are configured; the feature list changed`,
        { context: { saved: s.dim, configured: this.dim } },
      );
    }
    this.count = s.count;
    this.isFrozen = this.mode === 'freeze' && s.frozen;
    this.mean = Float64Array.from(s.mean);
    this.variance = Float64Array.from(s.variance);
  }

  private checkShape(rows: Float32Array, n: number, d: number): void {
    if (d !== this.dim)
      throw new InvalidOptionError(`rows have ${d} features but the standardiser has ${this.dim}`);
    if (!Number.isInteger(n) || n < 0 || rows.length < n * d) {
      throw new InvalidOptionError(`rows hold ${rows.length} values, fewer than n·d = ${n}·${d}`);
    }
  }
}
