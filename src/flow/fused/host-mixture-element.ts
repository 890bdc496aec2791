/**
 * One element (a row's value in one column) through the host mixture-CDF layer, two ways:
 * - `linearElement`, the fast path: z = Σ π_k·Φ(t_k), 1 − z = Σ π_k·Φ(−t_k) and the density Σ π_k·φ(t_k)/σ_k
 *   summed in linear space. Φ(−|t|) = ½·erfc(|t|/√2) = ½·τ·e^(P(τ))·e^(−t²/2) by `logErfc`'s fit, so a
 *   component costs two exps, and z and 1 − z are each summed without cancellation. It declines (returns
 *   false) when a sum underflows, i.e. beyond |t| ≈ 26 from every component;
 * - `logSpaceElement`: the same quantities as log-sum-exps of log terms (as the tfjs layer computes them),
 *   finite for every finite input.
 * Both give y = log z − log(1 − z) and log|dy/dx| = log p − log z − log(1 − z), and for training the
 * responsibilities and slopes `mixtureBackward` needs.
 */
import { HALF_LOG_2PI } from '../priors/prior-common.js';
import { ERFC_COEFFS } from '../special.js';
import { logNormalCdfPairWithSlopes } from './host-mixture-math.js';
import type { MixtureSaved, MixtureWeights } from './host-mixture-types.js';

const [C0, C1, C2, C3, C4, C5, C6, C7, C8, C9] = ERFC_COEFFS;

/** `logErfc`'s polynomial P(τ) = C0·τ⁹ + … + C9, by Horner. */
function erfcPoly(tau: number): number {
  let p = C0 * tau + C1;
  p = p * tau + C2;
  p = p * tau + C3;
  p = p * tau + C4;
  p = p * tau + C5;
  p = p * tau + C6;
  p = p * tau + C7;
  p = p * tau + C8;
  return p * tau + C9;
}

/** P'(τ) = 9·C0·τ⁸ + 8·C1·τ⁷ + … + C8, by Horner. */
function erfcPolySlope(tau: number): number {
  let p = 9 * C0 * tau + 8 * C1;
  p = p * tau + 7 * C2;
  p = p * tau + 6 * C3;
  p = p * tau + 5 * C4;
  p = p * tau + 4 * C5;
  p = p * tau + 3 * C6;
  p = p * tau + 2 * C7;
  return p * tau + C8;
}

/** Sums below this decline the fast path (their product must stay a normal float64). */
const TINY = 1e-150;

/**
 * y → `out[0]`, log-determinant → `out[1]` for value `x` of the column whose parameters start at `p`;
 * `sc` holds ≥ 4K scratch values. Fills `s` at `at` when given. False (nothing written) on underflow.
 */
export function linearElement(
  w: MixtureWeights,
  p: number,
  x: number,
  out: Float64Array,
  sc: Float64Array,
  s: MixtureSaved | undefined,
  at: number,
): boolean {
  const k = w.plan.components;
  let z = 0;
  let sf = 0;
  let dens = 0;
  for (let c = 0; c < k; c++) {
    const t = (x - w.mu[p + c]!) * w.inv[p + c]!;
    const a = Math.abs(t) * Math.SQRT1_2;
    const tau = 1 / (1 + 0.5 * a);
    const poly = erfcPoly(tau);
    const g = Math.exp(-a * a);
    const half = 0.5 * tau * Math.exp(poly) * g;
    const pi = w.pi[p + c]!;
    z += pi * (t < 0 ? half : 1 - half);
    sf += pi * (t < 0 ? 1 - half : half);
    dens += w.dens[p + c]! * g;
    sc[c] = t;
    sc[k + c] = half;
    sc[2 * k + c] = g;
    sc[3 * k + c] = tau;
  }
  if (!(z > TINY && sf > TINY && dens > TINY)) return false;
  out[0] = Math.log(z / sf);
  out[1] = Math.log(dens / (z * sf));
  if (s === undefined) return true;
  for (let c = 0; c < k; c++) {
    const t = sc[c]!;
    const half = sc[k + c]!;
    const pi = w.pi[p + c]!;
    s.t[at + c] = t;
    s.rZ[at + c] = (pi * (t < 0 ? half : 1 - half)) / z;
    s.rS[at + c] = (pi * (t < 0 ? 1 - half : half)) / sf;
    s.rD[at + c] = (w.dens[p + c]! * sc[2 * k + c]!) / dens;
    // d/d|t| of log Φ(−|t|) by the fit, (−τ/2·(1 + τ·P'(τ)) − 2a)/√2, a = |t|/√2; then
    // r·d log Φ(±t)/dt on either branch is ∓π·Φ(−|t|)·(that slope) over the sum.
    const tau = sc[3 * k + c]!;
    const a = Math.abs(t) * Math.SQRT1_2;
    const slope = pi * half * (-0.5 * tau * (1 + tau * erfcPolySlope(tau)) - 2 * a) * Math.SQRT1_2;
    s.cZ[at + c] = -slope / z;
    s.cS[at + c] = slope / sf;
  }
  return true;
}

/** log Σ_k e^(a[from + k]) over K entries. */
function logSumExp(a: Float64Array, from: number, k: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < k; c++) max = Math.max(max, a[from + c]!);
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (let c = 0; c < k; c++) sum += Math.exp(a[from + c]! - max);
  return max + Math.log(sum);
}

/** `linearElement` in log space, for every finite x; `sc` holds ≥ 3K + 6 scratch values. */
export function logSpaceElement(
  w: MixtureWeights,
  p: number,
  x: number,
  out: Float64Array,
  sc: Float64Array,
  s: MixtureSaved | undefined,
  at: number,
): void {
  const k = w.plan.components;
  const pair = sc.subarray(3 * k, 3 * k + 4);
  const tmp = sc.subarray(3 * k + 4);
  for (let c = 0; c < k; c++) {
    const t = (x - w.mu[p + c]!) * w.inv[p + c]!;
    logNormalCdfPairWithSlopes(t, pair, tmp);
    sc[c] = w.logW[p + c]! + pair[0]!;
    sc[k + c] = w.logW[p + c]! + pair[1]!;
    sc[2 * k + c] = w.logW[p + c]! - w.ls[p + c]! - HALF_LOG_2PI - 0.5 * t * t;
    if (s !== undefined) {
      s.t[at + c] = t;
      s.cZ[at + c] = pair[2]!;
      s.cS[at + c] = pair[3]!;
    }
  }
  const lz = logSumExp(sc, 0, k);
  const ls = logSumExp(sc, k, k);
  const ld = logSumExp(sc, 2 * k, k);
  out[0] = lz - ls;
  out[1] = ld - lz - ls;
  if (s === undefined) return;
  for (let c = 0; c < k; c++) {
    const rz = Math.exp(sc[c]! - lz);
    const rs = Math.exp(sc[k + c]! - ls);
    s.rZ[at + c] = rz;
    s.rS[at + c] = rs;
    s.rD[at + c] = Math.exp(sc[2 * k + c]! - ld);
    s.cZ[at + c] = rz * s.cZ[at + c]!;
    s.cS[at + c] = rs * s.cS[at + c]!;
  }
}
