/**
 * Special functions on float32 tensors (differentiable through tfjs autodiff), plus float64 plain-JS
 * versions used for constants (e.g. the Beta normaliser) and as test references.
 *
 * Accuracy (float32, measured against the float64 versions in `test/flow/special-functions.test.ts`):
 * - `lgamma`: |error| ≤ 1e-5 · max(1, |lgamma(x)|) for x in [1e-3, 1e6].
 * - `logNormalCdf`: |error| ≤ ~1e-6 · max(1, |log Φ(t)|) for every finite t, including t = −1e4
 *   (log Φ ≈ −5e7) and t ≫ 0 (log Φ ≈ −Φ(−t), kept in relative precision down to the float32 range).
 */
import * as tf from './tf.js';

const LN_HALF = Math.log(0.5);
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** lgamma shifts x below this up by the recurrence Γ(x+8) = Γ(x)·x(x+1)…(x+7) before Stirling. */
const STIRLING_MIN = 8;

/**
 * Chebyshev fit of log(erfc(a)·e^(a²)/τ), τ = 1/(1 + a/2), a ≥ 0 (Numerical Recipes `erfcc`; fractional
 * error of erfc < 1.2e-7 for every a ≥ 0). Highest-order coefficient first, for Horner.
 */
export const ERFC_COEFFS = [
  0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196,
  1.00002368, -1.26551223,
] as const;

/**
 * `mask ? a : b` for a 0/1 float `mask` (from `tf.step`), as mask·a + (1 − mask)·b, which is exact for
 * finite a, b. Used instead of `tf.where` because a boolean condition computed from a differentiated
 * tensor (`tf.less(x, …)`) has no gradient kernel and makes autodiff throw; `tf.step` has one.
 */
export function select(mask: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(mask, a), tf.mul(tf.sub(1, mask), b)));
}

/**
 * log Γ(x) for x > 0, elementwise. Stirling's series (4 terms) for x ≥ 8; smaller x are shifted by the
 * recurrence. Not defined for x ≤ 0 (returns garbage, not an error).
 */
export function lgamma(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const small = tf.step(tf.sub(STIRLING_MIN, x));
    // Clamped so the unselected branch stays finite (its gradient would otherwise be NaN).
    const xs = tf.minimum(x, STIRLING_MIN);
    let prod: tf.Tensor = xs;
    for (let i = 1; i < STIRLING_MIN; i++) prod = tf.mul(prod, tf.add(xs, i));
    const y = select(small, tf.add(xs, STIRLING_MIN), tf.maximum(x, STIRLING_MIN));
    return tf.sub(stirling(y), tf.mul(small, tf.log(prod)));
  });
}

/** Stirling's series for log Γ(y), y ≥ 8: truncation error < 1/(1188·y⁹) < 1e-11. */
function stirling(y: tf.Tensor): tf.Tensor {
  const r = tf.reciprocal(y);
  const r2 = tf.square(r);
  // 1/(12y) − 1/(360y³) + 1/(1260y⁵) − 1/(1680y⁷)
  const series = tf.mul(
    r,
    tf.add(1 / 12, tf.mul(r2, tf.add(-1 / 360, tf.mul(r2, tf.add(1 / 1260, tf.mul(r2, -1 / 1680)))))),
  );
  const main = tf.sub(tf.mul(tf.sub(y, 0.5), tf.log(y)), y);
  return tf.add(tf.add(main, HALF_LOG_2PI), series);
}

/** Below this |u|, `log1p` uses its Taylor series. */
const LOG1P_SERIES_MAX = 1e-4;

/**
 * log(1 + u) for u > −1, accurate to a few float32 ulps also for tiny |u|. `tf.log1p` is not: the wasm
 * backend computes log(1 + u), which returns 0 for |u| < 6e-8 and loses relative precision below ~1e-3.
 * Taylor series u − u²/2 + u³/3 for |u| < 1e-4, otherwise Kahan's log(w)·u/(w − 1) with w = 1 + u.
 */
export function log1p(u: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const small = tf.step(tf.sub(LOG1P_SERIES_MAX, tf.abs(u)));
    const series = tf.mul(u, tf.add(1, tf.mul(u, tf.add(-0.5, tf.div(u, 3)))));
    // The Kahan branch gets a harmless stand-in where unselected, so w − 1 is never 0 (0/0 = NaN).
    const uk = select(small, tf.onesLike(u), u);
    const w = tf.add(1, uk);
    const kahan = tf.div(tf.mul(tf.log(w), uk), tf.sub(w, 1));
    return select(small, series, kahan);
  });
}

/** log erfc(a) for a ≥ 0, finite for every finite a (no underflow: it is computed in log space). */
export function logErfc(a: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const tau = tf.reciprocal(tf.add(1, tf.mul(0.5, a)));
    let poly: tf.Tensor = tf.scalar(ERFC_COEFFS[0]);
    for (const c of ERFC_COEFFS.slice(1)) poly = tf.add(tf.mul(poly, tau), c);
    return tf.add(tf.sub(tf.log(tau), tf.square(a)), poly);
  });
}

/** log Φ(t) and log Φ(−t) = log(1 − Φ(t)) of the standard normal CDF Φ, elementwise. */
export interface LogNormalCdfPair {
  /** log Φ(t). */
  readonly logCdf: tf.Tensor;
  /** log Φ(−t), the log survival function. */
  readonly logSf: tf.Tensor;
}

/**
 * log Φ(t) and log Φ(−t), both stable in both tails. For the tail side, log Φ(−|t|) = log ½ + log
 * erfc(|t|/√2) uses `logErfc`, so t = −1e4 gives ≈ −5e7 instead of −Infinity; for the bulk side,
 * log(1 − ½·erfc(|t|/√2)) uses log1p, so t = 6 gives −1e-9 instead of 0. Every branch is finite for
 * finite t, so gradients are finite too (including exactly at t = 0).
 */
export function logNormalCdfPair(t: tf.Tensor): LogNormalCdfPair {
  const [logCdf, logSf] = tf.tidy(() => {
    // max(±t, 0) rather than |t|: their gradient at t = 0 is ±1, where |t|'s is 0.
    const lp = logErfc(tf.mul(tf.maximum(t, 0), Math.SQRT1_2));
    const ln = logErfc(tf.mul(tf.maximum(tf.neg(t), 0), Math.SQRT1_2));
    const tailLp = tf.add(lp, LN_HALF);
    const tailLn = tf.add(ln, LN_HALF);
    const bulkLp = log1p(tf.mul(-0.5, tf.exp(lp)));
    const bulkLn = log1p(tf.mul(-0.5, tf.exp(ln)));
    const negative = tf.step(tf.neg(t));
    const positive = tf.step(t);
    return [select(negative, tailLn, bulkLp), select(positive, tailLp, bulkLn)];
  });
  return { logCdf: logCdf as tf.Tensor, logSf: logSf as tf.Tensor };
}

/** log Φ(t), the log of the standard normal CDF, elementwise; see `logNormalCdfPair`. */
export function logNormalCdf(t: tf.Tensor): tf.Tensor {
  const { logCdf, logSf } = logNormalCdfPair(t);
  logSf.dispose();
  return logCdf;
}

/** log N(t; 0, 1) = −t²/2 − ½·log 2π, elementwise. */
export function logNormalPdf(t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.mul(-0.5, tf.square(t)), HALF_LOG_2PI));
}

// ---------------------------------------------------------------------------------------------------
// float64 plain-JS versions (independent formulas from the tensor ones, so they can serve as references)
// ---------------------------------------------------------------------------------------------------

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
] as const;

/** log Γ(x) in float64 (Lanczos, g = 7; relative error ~1e-15). x ≤ 0 uses the reflection formula. */
export function lgammaF64(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgammaF64(1 - x);
  const xm = x - 1;
  let a = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (xm + i);
  const t = xm + LANCZOS_G + 0.5;
  return HALF_LOG_2PI + (xm + 0.5) * Math.log(t) - t + Math.log(a);
}

/** erf(x) by its Maclaurin series; accurate to ~1e-15 absolute for |x| ≤ 2. */
function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** log of the continued fraction K(x) with erfc(x) = e^(−x²)/√π · K(x), x ≥ 2 (Laplace). */
function logErfcContinuedFraction(x: number): number {
  let f = x;
  for (let k = 300; k >= 1; k--) f = x + k / 2 / f;
  return -x * x - 0.5 * Math.log(Math.PI) - Math.log(f);
}

/** log erfc(x) in float64; finite for every finite x (relative error ~1e-13). */
export function logErfcF64(x: number): number {
  if (x >= 2) return logErfcContinuedFraction(x);
  if (x > -2) return Math.log1p(-erfSeries(x));
  return Math.log(2 - Math.exp(logErfcContinuedFraction(-x)));
}

/** erfc(x) in float64. */
export function erfcF64(x: number): number {
  return Math.exp(logErfcF64(x));
}

/** log Φ(t) in float64, stable in both tails. */
export function logNormalCdfF64(t: number): number {
  return t < 0 ? LN_HALF + logErfcF64(-t * Math.SQRT1_2) : Math.log1p(-0.5 * erfcF64(t * Math.SQRT1_2));
}
