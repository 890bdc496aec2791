import type { Rng } from '../core/rng.js';

/**
 * The latent factor model behind the synthetic stream. In standardised units feature j at event i is
 *   x_j = season_j(i) + (L z)_j + ε_j,   z ~ N(0, I_k), ε_j ~ N(0, noiseStd²),
 * then mapped to raw units as mean_j + scale_j · x_j. Features are correlated through the k shared
 * factors, so an event can be anomalous jointly while every feature on its own looks normal.
 */
export interface LatentModel {
  readonly dims: number;
  readonly factors: number;
  /** Row j holds feature j's loadings on the k factors. */
  readonly loadings: readonly Float64Array[];
  readonly noiseStd: number;
  /** Raw-unit mean and scale per feature. */
  readonly means: Float64Array;
  readonly scales: Float64Array;
  /** Standard deviation of x_j (standardised units, seasonality excluded): √(Σ_k L_jk² + noiseStd²). */
  readonly marginalStd: Float64Array;
  readonly seasonality: Seasonality | null;
  readonly seasonPhase: Float64Array;
  readonly seasonWeight: Float64Array;
}

/** A periodic component with the given period, counted in events (not wall time). */
export interface Seasonality {
  /** Events per cycle, e.g. 1440 one-minute events per day. */
  readonly periodEvents: number;
  /** Peak amplitude in standardised units. */
  readonly amplitude: number;
}

/** Shapes of injected anomalies: `spike` moves 1–2 features by 6–10σ; `decorrelate` breaks the factor structure. */
export type AnomalyKind = 'spike' | 'decorrelate';

/** One clean draw, kept in parts so anomalies can alter one part. */
export interface CleanDraw {
  readonly z: Float64Array;
  readonly season: Float64Array;
  readonly noise: Float64Array;
}

/** Builds the model's fixed structure (loadings, means, scales, phases) from `rng`. */
export function createLatentModel(
  rng: Rng,
  dims: number,
  factors: number,
  noiseStd: number,
  seasonality: Seasonality | null,
): LatentModel {
  const loadings = Array.from({ length: dims }, () =>
    Float64Array.from({ length: factors }, () => rng.normal()),
  );
  const means = Float64Array.from({ length: dims }, () => Math.round(10 + 90 * rng.uniform()));
  const scales = Float64Array.from({ length: dims }, () => 1 + 9 * rng.uniform());
  const seasonPhase = Float64Array.from({ length: dims }, () => 2 * Math.PI * rng.uniform());
  const seasonWeight = Float64Array.from({ length: dims }, () => 0.5 + 0.5 * rng.uniform());
  const marginalStd = Float64Array.from(loadings, (row) => Math.sqrt(dot(row, row) + noiseStd * noiseStd));
  return {
    dims,
    factors,
    loadings,
    noiseStd,
    means,
    scales,
    marginalStd,
    seasonality,
    seasonPhase,
    seasonWeight,
  };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Draws event `index`; always consumes exactly k + d normals from `rng`. */
export function drawClean(model: LatentModel, index: number, rng: Rng): CleanDraw {
  const z = Float64Array.from({ length: model.factors }, () => rng.normal());
  const noise = Float64Array.from({ length: model.dims }, () => model.noiseStd * rng.normal());
  const season = new Float64Array(model.dims);
  const s = model.seasonality;
  if (s !== null) {
    const angle = (2 * Math.PI * (index % s.periodEvents)) / s.periodEvents;
    for (let j = 0; j < model.dims; j++) {
      season[j] = s.amplitude * model.seasonWeight[j]! * Math.sin(angle + model.seasonPhase[j]!);
    }
  }
  return { z, season, noise };
}

/** Standardised vector of a draw: season + L z + noise, with latent signs flipped where `flip[j]`. */
export function compose(model: LatentModel, draw: CleanDraw, flip?: readonly boolean[]): Float64Array {
  return Float64Array.from(model.loadings, (row, j) => {
    const latent = dot(row, draw.z);
    return draw.season[j]! + (flip?.[j] === true ? -latent : latent) + draw.noise[j]!;
  });
}

/** Distinct random feature indices, `count` of them. */
function pickFeatures(rng: Rng, dims: number, count: number): number[] {
  const chosen: number[] = [];
  while (chosen.length < count) {
    const j = Math.floor(rng.uniform() * dims);
    if (!chosen.includes(j)) chosen.push(j);
  }
  return chosen;
}

/**
 * Applies an anomaly to a clean draw and returns the standardised vector. `spike`: one or two features
 * move by ±U(sigma[0], sigma[1]) marginal standard deviations. `decorrelate`: the factors are scaled to
 * norm 3√k and their contribution is sign-flipped on about half the features, so the event sits far off
 * the correlation structure although each feature alone stays within a few σ.
 */
export function applyAnomaly(
  model: LatentModel,
  draw: CleanDraw,
  kind: AnomalyKind,
  sigma: readonly [number, number],
  rng: Rng,
): Float64Array {
  if (kind === 'spike') {
    const x = compose(model, draw);
    for (const j of pickFeatures(rng, model.dims, rng.uniform() < 0.5 || model.dims < 2 ? 1 : 2)) {
      const magnitude = sigma[0] + (sigma[1] - sigma[0]) * rng.uniform();
      x[j]! += (rng.uniform() < 0.5 ? -1 : 1) * magnitude * model.marginalStd[j]!;
    }
    return x;
  }
  const norm = Math.sqrt(dot(draw.z, draw.z)) || 1;
  const target = 3 * Math.sqrt(model.factors);
  const z = draw.z.map((v) => (v / norm) * target);
  const flipped = new Set(pickFeatures(rng, model.dims, Math.max(1, Math.floor(model.dims / 2))));
  const flip = Array.from({ length: model.dims }, (_, j) => flipped.has(j));
  return compose(model, { ...draw, z }, flip);
}

/** Raw-unit values: mean + scale · (x + shift), rounded to `decimals` places. */
export function toRaw(model: LatentModel, x: Float64Array, shiftSigma: number, decimals: number): number[] {
  const factor = 10 ** decimals;
  return Array.from(x, (v, j) => {
    const raw = model.means[j]! + model.scales[j]! * (v + shiftSigma * model.marginalStd[j]!);
    return Math.round(raw * factor) / factor;
  });
}
