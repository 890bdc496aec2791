import type { Rng } from '../../src/core/rng.js';

/**
 * Seeded 2-D toy distributions with exactly computable densities, for judging trained flows against the
 * generator's entropy. Points are row-major `[n, 2]` Float32Arrays; densities are natural-log, float64.
 */

const LOG_2PI = Math.log(2 * Math.PI);

/** Centre of the two-moons arc `moon` (0 = upper, 1 = lower) at parameter t ∈ [0, π] (sklearn layout). */
function moonCentre(moon: number, t: number): [number, number] {
  return moon === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
}

/**
 * Two moons as in sklearn's `make_moons`: pick a moon with probability ½, t ~ U[0, π] on its arc, add
 * isotropic N(0, noise²) noise.
 */
export function sampleMoons(rng: Rng, n: number, noise: number): Float32Array {
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const [cx, cy] = moonCentre(rng.uniform() < 0.5 ? 0 : 1, Math.PI * rng.uniform());
    out[2 * i] = cx + noise * rng.normal();
    out[2 * i + 1] = cy + noise * rng.normal();
  }
  return out;
}

/** log(Σ exp(v)) of a list of log-terms, stably. */
function logSumExp(v: Float64Array): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of v) if (x > m) m = x;
  let s = 0;
  for (const x of v) s += Math.exp(x - m);
  return m + Math.log(s);
}

/**
 * Exact two-moons log density: p(x) = ½ Σ_moon (1/π) ∫₀^π N(x; c_moon(t), noise²I) dt, by the midpoint rule
 * with `nodes` points per arc. The integrand varies on the scale noise/radius in t (radius 1), so
 * nodes = 2000 (spacing 1.6e-3 rad vs 0.1 rad) makes the quadrature error negligible.
 */
export function moonsLogDensity(points: Float32Array, noise: number, nodes = 2000): Float64Array {
  const n = points.length / 2;
  const centres: [number, number][] = [];
  for (let moon = 0; moon < 2; moon++) {
    for (let j = 0; j < nodes; j++) centres.push(moonCentre(moon, (Math.PI * (j + 0.5)) / nodes));
  }
  // Each node carries weight ½ · (1/π) · (π/nodes) = 1/(2·nodes).
  const logW = -Math.log(2 * nodes) - LOG_2PI - 2 * Math.log(noise);
  const terms = new Float64Array(centres.length);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = points[2 * i]!;
    const y = points[2 * i + 1]!;
    centres.forEach(([cx, cy], j) => {
      terms[j] = logW - ((x - cx) ** 2 + (y - cy) ** 2) / (2 * noise * noise);
    });
    out[i] = logSumExp(terms);
  }
  return out;
}

/** A ring of `modes` equal-weight isotropic Gaussians N(μ_k, σ²I), μ_k = radius·(cos 2πk/m, sin 2πk/m). */
export interface RingSpec {
  readonly modes: number;
  readonly radius: number;
  readonly sigma: number;
}

function ringCentre(spec: RingSpec, k: number): [number, number] {
  const a = (2 * Math.PI * k) / spec.modes;
  return [spec.radius * Math.cos(a), spec.radius * Math.sin(a)];
}

/** Samples from the ring mixture. */
export function sampleRing(rng: Rng, n: number, spec: RingSpec): Float32Array {
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const [cx, cy] = ringCentre(spec, Math.min(spec.modes - 1, Math.floor(rng.uniform() * spec.modes)));
    out[2 * i] = cx + spec.sigma * rng.normal();
    out[2 * i + 1] = cy + spec.sigma * rng.normal();
  }
  return out;
}

/** Exact log density of the ring mixture. */
export function ringLogDensity(points: Float32Array, spec: RingSpec): Float64Array {
  const { modes, sigma } = spec;
  const logW = -Math.log(modes) - LOG_2PI - 2 * Math.log(sigma);
  const terms = new Float64Array(modes);
  const out = new Float64Array(points.length / 2);
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < modes; k++) {
      const [cx, cy] = ringCentre(spec, k);
      const d2 = (points[2 * i]! - cx) ** 2 + (points[2 * i + 1]! - cy) ** 2;
      terms[k] = logW - d2 / (2 * sigma * sigma);
    }
    out[i] = logSumExp(terms);
  }
  return out;
}

/** Sample mean `[2]` and covariance `[[a, b], [b, c]]` of row-major 2-D points. */
export function moments2d(points: Float32Array): {
  mean: [number, number];
  cov: [[number, number], [number, number]];
} {
  const n = points.length / 2;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += points[2 * i]!;
    my += points[2 * i + 1]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = points[2 * i]! - mx;
    const dy = points[2 * i + 1]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const k = n - 1;
  return {
    mean: [mx, my],
    cov: [
      [sxx / k, sxy / k],
      [sxy / k, syy / k],
    ],
  };
}

/** Exact mean and covariance of a 2-D distribution. */
export interface Moments2d {
  readonly mean: [number, number];
  readonly cov: [[number, number], [number, number]];
}

/**
 * Exact moments of `sampleMoons`. Per arc, t ~ U[0, π]: E cos t = 0, E sin t = 2/π, E cos² t = E sin² t = ½,
 * E cos t·sin t = 0; the two arcs are mixed ½/½ and the noise adds noise² to each variance.
 */
export function moonsMoments(noise: number): Moments2d {
  const s = 2 / Math.PI;
  const mean: [number, number] = [0.5, 0.25];
  // Second raw moments, averaged over the upper arc (cos, sin) and the lower arc (1 − cos, ½ − sin).
  const exx = (0.5 + 1.5) / 2;
  const eyy = (0.5 + (0.25 - s + 0.5)) / 2;
  const exy = (0 + (0.5 - s)) / 2;
  const v = noise * noise;
  return {
    mean,
    cov: [
      [exx - mean[0] ** 2 + v, exy - mean[0] * mean[1]],
      [exy - mean[0] * mean[1], eyy - mean[1] ** 2 + v],
    ],
  };
}

/** Exact moments of `sampleRing` (modes ≥ 3): zero mean, covariance (radius²/2 + σ²)·I. */
export function ringMoments(spec: RingSpec): Moments2d {
  const v = spec.radius ** 2 / 2 + spec.sigma ** 2;
  return {
    mean: [0, 0],
    cov: [
      [v, 0],
      [0, v],
    ],
  };
}
