/**
 * Explanations of anomalies: which features made an event's likelihood low. Method ("replacement
 * attribution", documented in docs/detector.md, "Explanations"): for each feature j of a standardised row
 * z, the gain gⱼ = max(0, max_c log p(z with zⱼ := c) − log p(z)), where c runs over a grid of quantiles of
 * the model's own marginal for feature j. gⱼ is how much likelier the event would be had feature j alone
 * taken a typical value; shares are gⱼ / Σ g. All candidates of all rows are scored in one tfjs call.
 */

import type { FeatureContribution, ScoredEvent } from '../core/records.js';
import { createRng } from '../core/rng.js';
import { InvalidOptionError } from '../errors.js';
import type { NormalizingFlow } from '../flow/normalizing-flow.js';
import * as tf from '../flow/tf.js';
import type { Standardiser } from './standardiser.js';

/**
 * Quantile levels of each model marginal used as replacement candidates. The first and last (1st and 99th
 * percentiles) bound the reported typical range; 0.5 is the median.
 */
export const CANDIDATE_LEVELS: readonly number[] = [0.01, 0.05, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95, 0.99];

/** Standard-normal quantiles at `CANDIDATE_LEVELS`: the fallback when the flow yields no finite sample. */
const NORMAL_QUANTILES = [-2.3263, -1.6449, -1.0364, -0.5244, 0, 0.5244, 1.0364, 1.6449, 2.3263];

/**
 * log p of row-major standardised rows (`n` rows of the flow's dim), floored like `NormalizingFlow.score`;
 * e.g. `Trainer.scoreRows`, which takes the fused path when the engine has one.
 */
export type RowScorer = (rows: Float32Array, n: number) => Promise<Float32Array>;

/** `flow.score` as a `RowScorer` (one tfjs call, one readback). */
export function flowRowScorer(flow: NormalizingFlow): RowScorer {
  return async (rows, n) => {
    const lp = tf.tidy(() => flow.score(tf.tensor2d(rows, [n, flow.dim])));
    try {
      return (await lp.data()) as Float32Array;
    } finally {
      lp.dispose();
    }
  };
}

/** Quantiles of the model's per-feature marginals, in standardised units. */
export interface MarginalQuantiles {
  readonly dim: number;
  /** Model version they were estimated at. */
  readonly modelVersion: number;
  /** `values[j * CANDIDATE_LEVELS.length + m]`: level m of feature j, ascending in m. */
  readonly values: Float64Array;
}

/**
 * Estimates the model's marginal quantiles at `CANDIDATE_LEVELS` from `samples` draws of the flow (one
 * readback). Rows with a non-finite value are dropped. The draws come from a generator seeded by
 * (`seed`, `modelVersion`), so the estimate is a pure function of the model and its version.
 */
export async function marginalQuantiles(
  flow: NormalizingFlow,
  samples: number,
  seed: number,
  modelVersion: number,
): Promise<MarginalQuantiles> {
  const d = flow.dim;
  const rng = createRng((seed ^ Math.imul(modelVersion + 1, 0x9e3779b1)) | 0);
  const t = flow.sample(samples, rng);
  let raw: Float32Array;
  try {
    raw = (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
  // Columns of the finite rows, sorted as typed arrays (numeric, no comparator calls): a few ms less per
  // estimate than arrays of numbers sorted with `(a, b) => a - b`, same values.
  const columns = Array.from({ length: d }, () => new Float64Array(samples));
  let kept = 0;
  for (let r = 0; r < samples; r++) {
    const o = r * d;
    let finite = true;
    for (let j = 0; j < d && finite; j++) finite = Number.isFinite(raw[o + j]!);
    if (!finite) continue;
    for (let j = 0; j < d; j++) columns[j]![kept] = raw[o + j]!;
    kept++;
  }
  const L = CANDIDATE_LEVELS.length;
  const values = new Float64Array(d * L);
  for (const [j, all] of columns.entries()) {
    const col = all.subarray(0, kept).sort();
    for (const [m, level] of CANDIDATE_LEVELS.entries()) {
      values[j * L + m] = kept < 2 ? NORMAL_QUANTILES[m]! : quantileSorted(col, level);
    }
  }
  return { dim: d, modelVersion, values };
}

/** Linear-interpolation quantile (type 7) of an ascending array. */
function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Explains `rows` (row-major, feature units, `fields.length` features each): per row, the `topK` features
 * with the largest share, largest first. Standardises with `standardiser` as the detector does, scores
 * every (row, feature, candidate) replacement in one `flow.score` call and reads it back once.
 */
export async function explainAnomalies(
  flow: NormalizingFlow,
  standardiser: Standardiser,
  rows: Float32Array,
  fields: readonly string[],
  quantiles: MarginalQuantiles,
  topK = 3,
  scorer: RowScorer = flowRowScorer(flow),
): Promise<FeatureContribution[][]> {
  const d = fields.length;
  if (d !== flow.dim || d !== standardiser.dim || quantiles.dim !== d) {
    throw new InvalidOptionError(
      `explanation needs ${flow.dim} feature names (the flow's dim), got ${d}; standardiser ${standardiser.dim}, quantiles ${quantiles.dim}`,
    );
  }
  const n = rows.length / d;
  if (!Number.isInteger(n))
    throw new InvalidOptionError(`rows hold ${rows.length} values, not a multiple of ${d}`);
  if (n === 0) return [];
  const z = standardiser.transform(rows, n, d);
  const logProb = await scoreReplacements(scorer, z, n, quantiles);
  const mean = standardiser.getMean();
  const std = standardiser.std();
  const L = CANDIDATE_LEVELS.length;
  const perRow = 1 + d * L;
  return Array.from({ length: n }, (_, i) => {
    const block = logProb.subarray(i * perRow, (i + 1) * perRow);
    const shares = sharesOf(gains(block, d), z.subarray(i * d, (i + 1) * d), quantiles);
    const all = shares.map((share, j) => ({
      feature: fields[j]!,
      value: rows[i * d + j]!,
      typicalLow: mean[j]! + std[j]! * quantiles.values[j * L]!,
      typicalHigh: mean[j]! + std[j]! * quantiles.values[j * L + L - 1]!,
      share,
    }));
    return all.sort((a, b) => b.share - a.share).slice(0, topK);
  });
}

/**
 * log p of every row and of each of its single-feature replacements, in blocks of 1 + d·L rows per input
 * row: the row itself, then feature 0 at each candidate level, feature 1, … One tfjs call, one readback.
 */
async function scoreReplacements(
  scorer: RowScorer,
  z: Float32Array,
  n: number,
  q: MarginalQuantiles,
): Promise<Float32Array> {
  const d = q.dim;
  const L = CANDIDATE_LEVELS.length;
  const perRow = 1 + d * L;
  const batch = new Float32Array(n * perRow * d);
  for (let i = 0; i < n; i++) {
    const row = z.subarray(i * d, (i + 1) * d);
    for (let r = 0; r < perRow; r++) batch.set(row, (i * perRow + r) * d);
    for (let j = 0; j < d; j++) {
      for (let m = 0; m < L; m++) batch[(i * perRow + 1 + j * L + m) * d + j] = q.values[j * L + m]!;
    }
  }
  return scorer(batch, n * perRow);
}

/** Per feature, the best log-likelihood gain over its candidates, floored at 0 (nats). */
function gains(block: Float32Array, d: number): number[] {
  const L = CANDIDATE_LEVELS.length;
  const base = block[0]!;
  return Array.from({ length: d }, (_, j) => {
    let best = 0;
    for (let m = 0; m < L; m++) best = Math.max(best, block[1 + j * L + m]! - base);
    return Number.isFinite(best) ? best : 0;
  });
}

/**
 * Gains normalised to sum to 1. When no single replacement helps (all gains 0, e.g. several features at
 * once beyond the flow's input bound), falls back to each feature's distance outside its typical range in
 * range widths, and to equal shares when every feature is inside its range.
 */
function sharesOf(g: readonly number[], z: Float32Array, q: MarginalQuantiles): number[] {
  const total = g.reduce((s, v) => s + v, 0);
  if (total > 0) return g.map((v) => v / total);
  const L = CANDIDATE_LEVELS.length;
  const excess = Array.from(z, (v, j) => {
    const lo = q.values[j * L]!;
    const hi = q.values[j * L + L - 1]!;
    return Math.max(0, v - hi, lo - v) / Math.max(hi - lo, 1e-12);
  });
  const sum = excess.reduce((s, v) => s + v, 0);
  return sum > 0 ? excess.map((v) => v / sum) : g.map(() => 1 / g.length);
}

/** JSON form of an `Explainer`'s cached quantiles (checkpointed with the detector). */
export interface ExplainCacheState {
  readonly modelVersion: number;
  /** `MarginalQuantiles.values`, as numbers. */
  readonly values: number[];
}

/** Options of `Explainer`. */
export interface ExplainerOptions {
  /** Feature names in model input order (the flow's dim of them). */
  readonly fields: readonly string[];
  /** Contributions kept per anomaly, largest share first. Default 3. */
  readonly topK?: number;
  /** Flow samples behind each estimate of the marginal quantiles. Default 1024. */
  readonly samples?: number;
  /** Seed of those samples (mixed with the model version). Default 0. */
  readonly seed?: number;
  /**
   * Model versions a quantile estimate stays in use: an anomaly at a version this many or more versions
   * after the estimate's re-estimates them. 1 = every version. Default 32.
   */
  readonly refreshVersions?: number;
}

/**
 * Explains a detector's anomalies, caching the model's marginal quantiles per flow: they are re-estimated
 * from flow samples when an anomaly comes at least `refreshVersions` model versions after the estimate,
 * or when the flow object changes (a detector restored from a checkpoint builds a new one). The marginals
 * of an online model move slowly, and the quantiles only place replacement candidates and the reported
 * typical range, so a few versions' lag is cheap where sampling at every version was not. The cache is in standardised units,
 * so a standardiser that keeps adapting ('ema') is applied at explanation time. The flow and standardiser
 * are passed per call, so one `Explainer` serves a detector whose model is replaced.
 */
export class Explainer {
  readonly fields: readonly string[];
  readonly topK: number;
  readonly samples: number;
  readonly refreshVersions: number;
  private readonly seed: number;
  private cache: { flow: NormalizingFlow; quantiles: MarginalQuantiles } | undefined;

  constructor(options: ExplainerOptions) {
    const { fields } = options;
    const topK = options.topK ?? 3;
    const samples = options.samples ?? 1024;
    const refreshVersions = options.refreshVersions ?? 32;
    if (!Number.isInteger(refreshVersions) || refreshVersions < 1) {
      throw new InvalidOptionError(`refreshVersions must be an integer >= 1, got ${refreshVersions}`);
    }
    if (!Array.isArray(fields) || fields.length === 0 || fields.some((f) => typeof f !== 'string')) {
      throw new InvalidOptionError("fields must list the model's feature names, in input order");
    }
    if (!Number.isInteger(topK) || topK < 1)
      throw new InvalidOptionError(`topK must be an integer >= 1, got ${topK}`);
    if (!Number.isInteger(samples) || samples < 100) {
      throw new InvalidOptionError(
        `samples must be an integer >= 100 (1st/99th percentiles), got ${samples}`,
      );
    }
    this.fields = Object.freeze([...fields]);
    this.topK = topK;
    this.samples = samples;
    this.refreshVersions = refreshVersions;
    this.seed = options.seed ?? 0;
  }

  /** Explains raw rows (feature units) scored by `flow` at `modelVersion` after `standardiser`. */
  async explain(
    flow: NormalizingFlow,
    standardiser: Standardiser,
    rows: Float32Array,
    modelVersion: number,
    scorer?: RowScorer,
  ): Promise<FeatureContribution[][]> {
    if (rows.length === 0) return [];
    const q = await this.quantiles(flow, modelVersion);
    return explainAnomalies(flow, standardiser, rows, this.fields, q, this.topK, scorer);
  }

  /**
   * Returns `events` with `explanation` set on each anomaly. `raw` holds the events' rows as scored
   * (row-major, feature units, same order). Call it after scoring and before training, with the flow and
   * standardiser that scored the batch. Returns `events` itself when there is no anomaly. `scorer`
   * scores the replacement rows (default `flow.score`; the detector passes its engine's scorer).
   */
  async annotate(
    flow: NormalizingFlow,
    standardiser: Standardiser,
    events: readonly ScoredEvent[],
    raw: Float32Array,
    scorer?: RowScorer,
  ): Promise<readonly ScoredEvent[]> {
    const d = flow.dim;
    const picked: number[] = [];
    for (let i = 0; i < events.length; i++) if (events[i]!.isAnomaly) picked.push(i);
    if (picked.length === 0) return events;
    const rows = new Float32Array(picked.length * d);
    for (const [k, i] of picked.entries()) rows.set(raw.subarray(i * d, (i + 1) * d), k * d);
    const explained = await this.explain(flow, standardiser, rows, events[picked[0]!]!.modelVersion, scorer);
    const byIndex = new Map(picked.map((i, k) => [i, explained[k]!]));
    return events.map((e, i) => {
      const explanation = byIndex.get(i);
      return explanation === undefined ? e : { ...e, explanation };
    });
  }

  /** The cached quantiles as JSON (for checkpoints), or null before the first explanation. */
  getCache(): ExplainCacheState | null {
    const q = this.cache?.quantiles;
    return q === undefined ? null : { modelVersion: q.modelVersion, values: Array.from(q.values) };
  }

  /**
   * Adopts `getCache` output for `flow` (a restored detector's new flow), so explanations continue exactly
   * as the saved detector's would; null or a cache of another dimension clears the cache.
   */
  restoreCache(flow: NormalizingFlow, state: ExplainCacheState | null | undefined): void {
    const d = flow.dim;
    const ok = state != null && state.values.length === d * CANDIDATE_LEVELS.length;
    this.cache = ok
      ? {
          flow,
          quantiles: { dim: d, modelVersion: state.modelVersion, values: Float64Array.from(state.values) },
        }
      : undefined;
  }

  private async quantiles(flow: NormalizingFlow, modelVersion: number): Promise<MarginalQuantiles> {
    const c = this.cache;
    if (c !== undefined && c.flow === flow) {
      const age = modelVersion - c.quantiles.modelVersion;
      if (age >= 0 && age < this.refreshVersions) return c.quantiles;
    }
    const quantiles = await marginalQuantiles(flow, this.samples, this.seed, modelVersion);
    this.cache = { flow, quantiles };
    return quantiles;
  }
}
