import { createRng } from '../../../src/core/rng.js';

/** `n` draws from N(mean, sd²), seeded. */
export function normals(seed: number, n: number, mean: number, sd: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => mean + sd * rng.normal());
}

/** Exact empirical quantile (nearest-rank, lower) of `values`. */
export function exactQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

/** Kolmogorov–Smirnov distance of a sample from U(0, 1). */
export function ksUniform(sample: readonly number[]): number {
  const s = [...sample].sort((a, b) => a - b);
  const m = s.length;
  let d = 0;
  s.forEach((p, i) => {
    d = Math.max(d, (i + 1) / m - p, p - i / m);
  });
  return d;
}

/** Standard normal quantile by bisection on the CDF (erf via Abramowitz–Stegun 7.1.26 is too coarse). */
export function normalQuantile(q: number): number {
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Standard normal CDF by Simpson integration of the density from 0 (accurate to ~1e-12). */
function normalCdf(x: number): number {
  const n = 2000;
  const h = x / n;
  let s = 0;
  for (let i = 0; i <= n; i++) {
    const w = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
    s += w * Math.exp((-(i * h) * (i * h)) / 2);
  }
  return 0.5 + (s * h) / 3 / Math.sqrt(2 * Math.PI);
}
