/**
 * Scalar float64 numerics of the host mixture-CDF layer: log Φ(±t) with their derivatives, by the same
 * formulas as the tensor versions in special.ts (`logErfc`'s Chebyshev fit, the tail/bulk branches of
 * `logNormalCdfPair`), so the host engine and tfjs compute the same function and the hand-written
 * gradients are the exact derivatives of what is computed.
 */
import { ERFC_COEFFS } from '../special.js';

const LN_HALF = Math.log(0.5);

/**
 * log erfc(a) for a ≥ 0 (fractional error of erfc < 1.2e-7, finite for every finite a) into `out[0]` and
 * its derivative in a into `out[1]`: log τ − a² + P(τ), τ = 1/(1 + a/2), dτ/da = −τ²/2.
 */
export function logErfcWithSlope(a: number, out: Float64Array): void {
  const tau = 1 / (1 + 0.5 * a);
  let p: number = ERFC_COEFFS[0];
  let dp = 0;
  for (let i = 1; i < ERFC_COEFFS.length; i++) {
    dp = dp * tau + p;
    p = p * tau + ERFC_COEFFS[i]!;
  }
  out[0] = Math.log(tau) - a * a + p;
  out[1] = -0.5 * tau * tau * (1 / tau + dp) - 2 * a;
}

/**
 * log Φ(t) → `out[0]`, log Φ(−t) → `out[1]`, d log Φ(t)/dt → `out[2]`, d log Φ(−t)/dt → `out[3]`.
 * The tail side is log ½ + log erfc(|t|/√2), the bulk side log(1 − ½·erfc(|t|/√2)); `scratch` has ≥ 2 entries.
 */
export function logNormalCdfPairWithSlopes(t: number, out: Float64Array, scratch: Float64Array): void {
  logErfcWithSlope(Math.abs(t) * Math.SQRT1_2, scratch);
  const le = scratch[0]!;
  const half = 0.5 * Math.exp(le);
  const tail = le + LN_HALF;
  const bulk = Math.log1p(-half);
  // d/d|t| of each side: the tail's slope, and the bulk's −½e^le·le'/(1 − ½e^le).
  const dTail = scratch[1]! * Math.SQRT1_2;
  const dBulk = (-half / (1 - half)) * dTail;
  if (t < 0) {
    out[0] = tail;
    out[1] = bulk;
    out[2] = -dTail;
    out[3] = -dBulk;
  } else {
    out[0] = bulk;
    out[1] = tail;
    out[2] = dBulk;
    out[3] = dTail;
  }
}
