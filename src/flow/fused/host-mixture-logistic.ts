/**
 * One element through the host mixture-CDF layer with logistic components (`family: 'logistic'`), the
 * counterpart of host-mixture-element.ts's Gaussian kernels: per component, with e = e^(−|t|),
 * σ(−|t|) = e/(1 + e) and σ(|t|) = 1/(1 + e), so z = Σ π_k·σ(t_k), 1 − z = Σ π_k·σ(−t_k) and the density
 * Σ π_k·σ(t_k)·σ(−t_k)/σ_k cost one exp per component. `logisticElement` sums them in linear space and, when
 * a sum underflows (beyond |t| ≈ 345 from every component), in log space with log σ(±t) = min(±t, 0) −
 * log1p(e), as the tfjs layer computes them. Both give y = log z − log(1 − z), log|dy/dx| = log p − log z −
 * log(1 − z), and for training the responsibilities and r·d log σ(±t)/dt, which are r·σ(∓t)·(±1).
 */
import type { MixtureSaved, MixtureWeights } from './host-mixture-types.js';

/** Sums below this take the log-space path (their product must stay a normal float64). */
const TINY = 1e-150;

/** log Σ_k e^(a[from + k]) over K entries. */
function logSumExp(a: Float64Array, from: number, k: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < k; c++) max = Math.max(max, a[from + c]!);
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (let c = 0; c < k; c++) sum += Math.exp(a[from + c]! - max);
  return max + Math.log(sum);
}

/** The log-space sums: log z, log(1 − z), log p from per-component log terms in `sc` (3K). */
function logSpace(w: MixtureWeights, p: number, x: number, sc: Float64Array, out: Float64Array): void {
  const k = w.plan.components;
  for (let c = 0; c < k; c++) {
    const t = (x - w.mu[p + c]!) * w.inv[p + c]!;
    const sp = Math.log1p(Math.exp(-Math.abs(t)));
    sc[c] = w.logW[p + c]! + Math.min(t, 0) - sp;
    sc[k + c] = w.logW[p + c]! + Math.min(-t, 0) - sp;
    sc[2 * k + c] = w.logW[p + c]! - w.ls[p + c]! - Math.abs(t) - 2 * sp;
  }
  out[0] = logSumExp(sc, 0, k);
  out[1] = logSumExp(sc, k, k);
  out[2] = logSumExp(sc, 2 * k, k);
}

/**
 * y → `out[0]`, log-determinant → `out[1]` for value `x` of the column whose parameters start at `p`;
 * `sc` holds ≥ 4K + 3 scratch values, `out` ≥ 2. Fills `s` at `at` when given.
 */
export function logisticElement(
  w: MixtureWeights,
  p: number,
  x: number,
  out: Float64Array,
  sc: Float64Array,
  s: MixtureSaved | undefined,
  at: number,
): void {
  const k = w.plan.components;
  let z = 0;
  let sf = 0;
  let dens = 0;
  for (let c = 0; c < k; c++) {
    const t = (x - w.mu[p + c]!) * w.inv[p + c]!;
    const e = Math.exp(-Math.abs(t));
    const lo = e / (1 + e);
    const hi = 1 / (1 + e);
    const pi = w.pi[p + c]!;
    z += pi * (t < 0 ? lo : hi);
    sf += pi * (t < 0 ? hi : lo);
    dens += w.dens[p + c]! * lo * hi;
    sc[c] = t;
    sc[k + c] = lo;
    sc[2 * k + c] = hi;
  }
  if (z > TINY && sf > TINY && dens > TINY) {
    out[0] = Math.log(z / sf);
    out[1] = Math.log(dens / (z * sf));
    if (s !== undefined) saveLinear(w, p, z, sf, dens, sc, s, at);
    return;
  }
  const logs = sc.subarray(4 * k, 4 * k + 3);
  logSpace(w, p, x, sc.subarray(k), logs);
  const [lz, ls, ld] = [logs[0]!, logs[1]!, logs[2]!];
  out[0] = lz - ls;
  out[1] = ld - lz - ls;
  if (s !== undefined) saveLogSpace(w, p, x, lz, ls, ld, s, at);
}

/** Responsibilities and slopes from the linear sums and each component's t, σ(−|t|), σ(|t|) in `sc`. */
function saveLinear(
  w: MixtureWeights,
  p: number,
  z: number,
  sf: number,
  dens: number,
  sc: Float64Array,
  s: MixtureSaved,
  at: number,
): void {
  const k = w.plan.components;
  for (let c = 0; c < k; c++) {
    const t = sc[c]!;
    const lo = sc[k + c]!;
    const hi = sc[2 * k + c]!;
    const up = t < 0 ? lo : hi;
    const down = t < 0 ? hi : lo;
    const rz = (w.pi[p + c]! * up) / z;
    const rs = (w.pi[p + c]! * down) / sf;
    s.t[at + c] = t;
    s.rZ[at + c] = rz;
    s.rS[at + c] = rs;
    s.rD[at + c] = (w.dens[p + c]! * lo * hi) / dens;
    s.cZ[at + c] = rz * down;
    s.cS[at + c] = -rs * up;
  }
}

/** Responsibilities and slopes of one element from its log sums (the far-tail path). */
function saveLogSpace(
  w: MixtureWeights,
  p: number,
  x: number,
  lz: number,
  ls: number,
  ld: number,
  s: MixtureSaved,
  at: number,
): void {
  const k = w.plan.components;
  for (let c = 0; c < k; c++) {
    const t = (x - w.mu[p + c]!) * w.inv[p + c]!;
    const sp = Math.log1p(Math.exp(-Math.abs(t)));
    const logHi = Math.min(t, 0) - sp;
    const logLo = Math.min(-t, 0) - sp;
    const rz = Math.exp(w.logW[p + c]! + logHi - lz);
    const rs = Math.exp(w.logW[p + c]! + logLo - ls);
    s.t[at + c] = t;
    s.rZ[at + c] = rz;
    s.rS[at + c] = rs;
    s.rD[at + c] = Math.exp(w.logW[p + c]! - w.ls[p + c]! + logHi + logLo - ld);
    s.cZ[at + c] = rz * Math.exp(logLo);
    s.cS[at + c] = -rs * Math.exp(logHi);
  }
}
