/**
 * Expectation–maximisation for a one-dimensional Gaussian mixture, in float64: the data-dependent
 * initialisation `init: 'em'` of `MixtureCdf` (the marginal layer starts at the maximum-likelihood fit of
 * its first batch instead of at evenly spread quantiles with one common scale).
 */

/** A fitted 1-D Gaussian mixture: weights (sum 1), means and log-scales, K each. */
export interface Mixture1d {
  readonly weights: number[];
  readonly means: number[];
  readonly logScales: number[];
}

/** EM iterations of `fitMixture1d`: a fixed count, so the result is deterministic and cheap (n·K·iters). */
export const EM_ITERATIONS = 50;
/** Smallest weight a component keeps, so that training can still revive a component EM emptied. */
export const EM_MIN_WEIGHT = 1e-3;

/**
 * Fits K components to `values` by EM from `start` (means and one common log-scale, e.g. quantiles), with
 * each variance at least `minVariance` (so a point mass cannot collapse a component to zero width).
 * Components that lose all their responsibility keep their mean and scale, with weight `EM_MIN_WEIGHT`.
 */
export function fitMixture1d(
  values: Float64Array,
  start: { readonly means: readonly number[]; readonly logScale: number },
  minVariance: number,
): Mixture1d {
  const k = start.means.length;
  const n = values.length;
  const w = new Array<number>(k).fill(1 / k);
  const mu = [...start.means];
  const v = new Array<number>(k).fill(Math.max(Math.exp(2 * start.logScale), minVariance));
  const r = new Float64Array(n * k);
  for (let it = 0; it < EM_ITERATIONS; it++) {
    responsibilities(values, w, mu, v, r);
    for (let c = 0; c < k; c++) {
      let sr = 0;
      let sx = 0;
      for (let i = 0; i < n; i++) {
        sr += r[i * k + c]!;
        sx += r[i * k + c]! * values[i]!;
      }
      if (!(sr > 1e-9)) {
        w[c] = 0;
        continue;
      }
      const m = sx / sr;
      let sv = 0;
      for (let i = 0; i < n; i++) sv += r[i * k + c]! * (values[i]! - m) ** 2;
      w[c] = sr / n;
      mu[c] = m;
      v[c] = Math.max(sv / sr, minVariance);
    }
  }
  const floored = w.map((x) => Math.max(x, EM_MIN_WEIGHT));
  const total = floored.reduce((a, b) => a + b, 0);
  return { weights: floored.map((x) => x / total), means: mu, logScales: v.map((x) => 0.5 * Math.log(x)) };
}

/** r[i, c] ∝ w_c·N(x_i; μ_c, v_c), normalised per row in log space. */
function responsibilities(
  x: Float64Array,
  w: readonly number[],
  mu: readonly number[],
  v: readonly number[],
  r: Float64Array,
): void {
  const k = w.length;
  const logW = w.map((a) => (a > 0 ? Math.log(a) : Number.NEGATIVE_INFINITY));
  for (let i = 0; i < x.length; i++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      const l = logW[c]! - 0.5 * Math.log(v[c]!) - (0.5 * (x[i]! - mu[c]!) ** 2) / v[c]!;
      r[i * k + c] = l;
      if (l > max) max = l;
    }
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(r[i * k + c]! - max);
      r[i * k + c] = e;
      sum += e;
    }
    for (let c = 0; c < k; c++) r[i * k + c] = r[i * k + c]! / sum;
  }
}
