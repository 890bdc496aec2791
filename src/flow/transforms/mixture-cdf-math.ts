/**
 * Numerics of `MixtureCdf`: the per-column mixture CDF in log space and its inverse by bisection.
 * All tensors are float32; `[n, d]` data against `[d, K]` parameters. Components are Gaussian (Φ, φ) or
 * logistic (σ, σ(t)·σ(−t)), `MixtureParams.family`.
 */
import { logNormalCdfPair } from '../special.js';
import * as tf from '../tf.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** The components' family: Gaussian tails (−log p ≈ t²/2) or logistic ones (≈ |t|). */
export type MixtureFamily = 'gaussian' | 'logistic';

/** Mixture parameters, each `[d, K]`: normalised log-weights, means and log-scales; and their family. */
export interface MixtureParams {
  readonly family: MixtureFamily;
  readonly logWeights: tf.Tensor2D;
  readonly means: tf.Tensor2D;
  readonly logScales: tf.Tensor2D;
}

/** log F(x), log(1 − F(x)) and log F'(x) per element, `[n, d]`, nats. */
export interface MixtureLogs {
  readonly logZ: tf.Tensor2D;
  readonly log1mZ: tf.Tensor2D;
  readonly logDensity: tf.Tensor2D;
}

/** Standardised distances t = (x − μ)/σ, `[n, d, K]`. */
function standardize(x: tf.Tensor2D, p: MixtureParams): tf.Tensor3D {
  return tf.mul(tf.sub(tf.expandDims(x, 2), p.means), tf.exp(tf.neg(p.logScales))) as tf.Tensor3D;
}

/**
 * log σ(t) and log σ(−t) as min(±t, 0) − softplus(−|t|), finite for every finite t (the Logistic prior's
 * form); their sum is the logistic component's log-density in t.
 */
function logSigmoidPair(t: tf.Tensor): { logCdf: tf.Tensor; logSf: tf.Tensor } {
  const sp = tf.softplus(tf.neg(tf.abs(t)));
  return { logCdf: tf.sub(tf.minimum(t, 0), sp), logSf: tf.sub(tf.minimum(tf.neg(t), 0), sp) };
}

/** log F(x) and log(1 − F(x)) as log-sum-exps over components of log π + log Φ(±t) (or log σ(±t)). */
function logCdfPair(t: tf.Tensor3D, p: MixtureParams): [tf.Tensor2D, tf.Tensor2D] {
  const { logCdf, logSf } = p.family === 'logistic' ? logSigmoidPair(t) : logNormalCdfPair(t);
  return [
    tf.logSumExp(tf.add(p.logWeights, logCdf), 2) as tf.Tensor2D,
    tf.logSumExp(tf.add(p.logWeights, logSf), 2) as tf.Tensor2D,
  ];
}

/** log F(x), log(1 − F(x)) and the log mixture density; differentiable, finite for finite x. */
export function mixtureLogs(x: tf.Tensor2D, p: MixtureParams): MixtureLogs {
  const [logZ, log1mZ, logDensity] = tf.tidy(() => {
    const t = standardize(x, p);
    const [lz, l1mz] = logCdfPair(t, p);
    const logStd =
      p.family === 'logistic'
        ? tf.neg(tf.add(tf.abs(t), tf.mul(2, tf.softplus(tf.neg(tf.abs(t))))))
        : tf.neg(tf.add(tf.mul(0.5, tf.square(t)), HALF_LOG_2PI));
    const logComp = tf.add(tf.sub(p.logWeights, p.logScales), logStd);
    return [lz, l1mz, tf.logSumExp(logComp, 2)];
  });
  return {
    logZ: logZ as tf.Tensor2D,
    log1mZ: log1mZ as tf.Tensor2D,
    logDensity: logDensity as tf.Tensor2D,
  };
}

/** log(F/(1 − F)) at x, `[n, d]`: the monotone function bisection inverts. */
function logitCdf(x: tf.Tensor2D, p: MixtureParams): tf.Tensor2D {
  const [lz, l1mz] = logCdfPair(standardize(x, p), p);
  return tf.sub(lz, l1mz) as tf.Tensor2D;
}

/**
 * A bracket [lo, hi] per element that contains the solution of logit F(x) = y. With
 * L = max(−log σ(y), −log σ(−y)) and r = √(2·L) + 1, every Gaussian component has Φ(−r) ≤ ½e^(−r²/2) <
 * min(F, 1 − F) at the target; with r = L + 1 every logistic one has σ(−r) < e^(−L) (and L ≥ |y|). So
 * x = min_k(μ_k − rσ_k) is below the solution and max_k(μ_k + rσ_k) above.
 */
function bracket(y: tf.Tensor2D, p: MixtureParams): [tf.Tensor2D, tf.Tensor2D] {
  const depth = tf.maximum(tf.softplus(tf.neg(y)), tf.softplus(y));
  const reach = p.family === 'logistic' ? depth : tf.sqrt(tf.mul(2, depth));
  const r = tf.expandDims(tf.add(reach, 1), 2);
  const spread = tf.mul(r, tf.exp(p.logScales));
  return [
    tf.min(tf.sub(p.means, spread), 2) as tf.Tensor2D,
    tf.max(tf.add(p.means, spread), 2) as tf.Tensor2D,
  ];
}

/** Bisection stops once every bracket is narrower than BISECT_REL_TOL·(1 + |x|) (≈ 2 float32 ulps). */
const BISECT_REL_TOL = 2.5e-7;
/** Hard cap on bisection steps (the bracket shrinks 2^100-fold long before). */
const BISECT_MAX_STEPS = 100;
/** Convergence is read back (one sync) every this many steps. */
const BISECT_CHECK_EVERY = 4;

function converged(lo: tf.Tensor2D, hi: tf.Tensor2D): boolean {
  const done = tf.tidy(() =>
    tf.all(tf.lessEqual(tf.sub(hi, lo), tf.mul(BISECT_REL_TOL, tf.add(1, tf.abs(lo))))),
  );
  const value = done.dataSync()[0] === 1;
  done.dispose();
  return value;
}

/**
 * Solves logit F(x) = y elementwise by vectorised bisection; `y` is `[n, d]`, finite. `params` is called
 * inside each tidy scope, so it may build fresh tensors from variables. Returns x `[n, d]` (caller owns it).
 */
export function bisectInverse(y: tf.Tensor2D, params: () => MixtureParams): tf.Tensor2D {
  let [lo, hi] = tf.tidy(() => bracket(y, params()));
  for (let step = 1; step <= BISECT_MAX_STEPS; step++) {
    const [nextLo, nextHi] = tf.tidy(() => {
      const mid = tf.add(lo, tf.mul(0.5, tf.sub(hi, lo)));
      const below = tf.less(logitCdf(mid as tf.Tensor2D, params()), y);
      return [tf.where(below, mid, lo) as tf.Tensor2D, tf.where(below, hi, mid) as tf.Tensor2D];
    });
    lo.dispose();
    hi.dispose();
    lo = nextLo;
    hi = nextHi;
    if (step % BISECT_CHECK_EVERY === 0 && converged(lo, hi)) break;
  }
  const x = tf.tidy(() => tf.add(lo, tf.mul(0.5, tf.sub(hi, lo))) as tf.Tensor2D);
  lo.dispose();
  hi.dispose();
  return x;
}
