import type { Rng } from '../../src/core/rng.js';
import * as tf from '../../src/flow/tf.js';
import type { Bijector } from '../../src/flow/types.js';

/** `[n, dim]` standard-normal batch scaled by `scale`, from the seeded rng. */
export function randomBatch(rng: Rng, n: number, dim: number, scale = 1): tf.Tensor2D {
  const v = new Float32Array(n * dim);
  for (let i = 0; i < v.length; i++) v[i] = scale * rng.normal();
  return tf.tensor2d(v, [n, dim]);
}

/** max |inverse(forward(x)) − x| over the batch. */
export function roundTripError(b: Bijector, x: tf.Tensor2D): number {
  return tf.tidy(() => {
    const { z } = b.forward(x);
    return tf.max(tf.abs(tf.sub(b.inverse(z), x))).dataSync()[0]!;
  });
}

/** log|det| of a square matrix (row-major, float64) by LU with partial pivoting. */
export function logAbsDet(m: number[][]): number {
  const n = m.length;
  const a = m.map((r) => [...r]);
  let acc = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i]![k]!) > Math.abs(a[p]![k]!)) p = i;
    [a[k], a[p]] = [a[p]!, a[k]!];
    const piv = a[k]![k]!;
    acc += Math.log(Math.abs(piv));
    for (let i = k + 1; i < n; i++) {
      const f = a[i]![k]! / piv;
      for (let j = k; j < n; j++) a[i]![j]! -= f * a[k]![j]!;
    }
  }
  return acc;
}

/**
 * Per-row log|det ∂z/∂x| computed independently of the transform's own logDet: the Jacobian comes from
 * tfjs autodiff (one gradient per output coordinate; rows are independent), the determinant from a
 * float64 LU in JS.
 */
export function autodiffLogDet(b: Bijector, x: tf.Tensor2D): number[] {
  const [n, d] = x.shape;
  const rows: number[][][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < d; i++) {
    const g = tf.tidy(() =>
      tf.grad((xx: tf.Tensor) => tf.sum(tf.slice(b.forward(xx as tf.Tensor2D).z, [0, i], [n, 1])))(x),
    );
    const vals = g.arraySync() as number[][];
    g.dispose();
    for (let r = 0; r < n; r++) rows[r]![i] = vals[r]!;
  }
  return rows.map((jac) => logAbsDet(jac));
}

/** max |transform logDet − autodiff logDet| over the batch. */
export function logDetError(b: Bijector, x: tf.Tensor2D): number {
  const own = tf.tidy(() => b.forward(x).logDet.arraySync());
  const ref = autodiffLogDet(b, x);
  return Math.max(...own.map((v, i) => Math.abs(v - ref[i]!)));
}

/** Asserts-by-return: number of live tensors after running `fn` minus before. */
export function tensorDelta(fn: () => void): number {
  const before = tf.memory().numTensors;
  fn();
  return tf.memory().numTensors - before;
}

/** Live tensors left by one forward, inverse and data-dependent `initialize` of `b` on `x` (0 when leak-free). */
export function passesTensorDelta(
  b: Bijector & { initialize(x: tf.Tensor2D): void },
  x: tf.Tensor2D,
): number {
  return tensorDelta(() => {
    const r = b.forward(x);
    b.inverse(r.z).dispose();
    r.z.dispose();
    r.logDet.dispose();
    b.initialize(x);
  });
}
