import * as tf from '../tf.js';

/**
 * Monotonic rational-quadratic splines (Durkan et al. 2019, "Neural Spline Flows", §3.1 and App. A),
 * elementwise on `[batch, k]` inputs with per-element parameters `[batch, k, ·]`.
 *
 * The spline maps [−B, B] onto [−B, B] through K bins; outside it is the identity ("linear tails"), and the
 * boundary derivatives are fixed at 1 so value and slope are continuous at ±B.
 *
 * tfjs constraints: no `tf.gather` (no gradient on wasm). The bin of each element is a one-hot built from
 * `tf.step` against the knots, and bin parameters are selected by multiply + sum over the bin axis. Inputs
 * of the spline branch are clamped into [−B, B] so that the unselected branch of the final `tf.where`
 * stays finite (a NaN there would still poison gradients).
 */

/** Shape of a spline: bin count, half-width and the minimum bin size and slope. */
export interface SplineShape {
  readonly bins: number;
  readonly bound: number;
  /** Minimum bin width and height as a fraction of the interval (so bins·min < 1). */
  readonly minBinSize: number;
  /** Minimum interior derivative. */
  readonly minDerivative: number;
}

/** Unnormalised spline parameters, as produced by a conditioner. */
export interface SplineParams {
  /** `[batch, k, bins]` bin-width logits. */
  readonly widths: tf.Tensor3D;
  /** `[batch, k, bins]` bin-height logits. */
  readonly heights: tf.Tensor3D;
  /** `[batch, k, bins − 1]` interior-derivative pre-activations; 0 gives slope 1. */
  readonly derivatives: tf.Tensor3D;
}

/** Knot positions `[batch, k, bins + 1]` on [−B, B] from logits: softmax with a minimum bin size. */
function knots(logits: tf.Tensor3D, shape: SplineShape): tf.Tensor3D {
  const { bins, bound, minBinSize } = shape;
  const frac = tf.add(minBinSize, tf.mul(1 - minBinSize * bins, tf.softmax(logits)));
  const [n, k] = [logits.shape[0], logits.shape[1]];
  // Interior knots from the cumulative sum; the end knots are pinned exactly at ±B.
  const inner = tf.slice(tf.cumsum(frac, 2), [0, 0, 0], [n, k, bins - 1]);
  const pos = tf.sub(tf.mul(inner, 2 * bound), bound);
  return tf.concat([tf.fill([n, k, 1], -bound), pos, tf.fill([n, k, 1], bound)], 2) as tf.Tensor3D;
}

/** Knot derivatives `[batch, k, bins + 1]`: 1 at both ends, min + softplus(u + shift) inside. */
function knotDerivatives(u: tf.Tensor3D, shape: SplineShape): tf.Tensor3D {
  const { minDerivative } = shape;
  // softplus(shift) = 1 − min, so u = 0 gives slope exactly 1 (identity at initialisation).
  const shift = Math.log(Math.expm1(1 - minDerivative));
  const inner = tf.add(minDerivative, tf.softplus(tf.add(u, shift)));
  const ones = tf.ones([u.shape[0], u.shape[1], 1]);
  return tf.concat([ones, inner, ones], 2) as tf.Tensor3D;
}

/** Rows of the stacked bin table `[batch, k, 6, bins]`. */
const X_LEFT = 0;
const Y_LEFT = 1;

/** One-hot `[batch, k, bins]` of the bin containing each (clamped) value, from the left knots. */
function binOneHot(v: tf.Tensor2D, left: tf.Tensor3D): tf.Tensor3D {
  const [n, k, bins] = left.shape;
  // above[j] = 1 when v > left[j]; bin 0 always counts, so a value exactly at −B lands in bin 0.
  const above = tf.step(tf.sub(tf.expandDims(v, 2), left));
  const rest = tf.slice(above, [0, 0, 1], [n, k, bins - 1]);
  const ge = tf.concat([tf.ones([n, k, 1]), rest], 2);
  const next = tf.concat([rest, tf.zeros([n, k, 1])], 2);
  return tf.sub(ge, next) as tf.Tensor3D;
}

/**
 * Picks, for each element of `v`, its bin's column of `table` (`[batch, k, 6, bins]` → `[batch, k, 6]`),
 * searching `v` against table row `searchRow` (left knots). The bin choice is piecewise constant, so the
 * gradient flows to `table` only (as one-hot · dy); the search runs inside the op, off the gradient tape.
 */
function selectBins(v: tf.Tensor2D, table: tf.Tensor4D, searchRow: number): tf.Tensor3D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [vi, ti, save] = args as [tf.Tensor2D, tf.Tensor4D, tf.GradSaveFunc];
    const [n, k, , bins] = ti.shape;
    const left = tf.reshape(tf.slice(ti, [0, 0, searchRow, 0], [n, k, 1, bins]), [n, k, bins]);
    const oneHot = tf.expandDims(binOneHot(vi, left as tf.Tensor3D), 2);
    save([oneHot]);
    return {
      value: tf.sum(tf.mul(ti, oneHot), 3) as tf.Tensor3D,
      gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => [
        tf.zerosLike(vi),
        tf.mul(tf.expandDims(dy, 3), saved[0]!),
      ],
    };
  });
  return op(v, table) as tf.Tensor3D;
}

/** Per-element bin quantities selected by the one-hot. */
interface Bin {
  readonly x0: tf.Tensor2D;
  readonly w: tf.Tensor2D;
  readonly y0: tf.Tensor2D;
  readonly h: tf.Tensor2D;
  readonly dl: tf.Tensor2D;
  readonly dr: tf.Tensor2D;
}

/** The bin of each clamped value `v`, searched along the x knots (`byOutput` false) or the y knots. */
function locate(v: tf.Tensor2D, p: SplineParams, shape: SplineShape, byOutput: boolean): Bin {
  const { bins } = shape;
  const [n, k] = v.shape;
  // [batch, k, 3, bins + 1]: x knots, y knots, derivatives; then left edges (rows 0–2), right (3–5).
  const all = tf.stack(
    [knots(p.widths, shape), knots(p.heights, shape), knotDerivatives(p.derivatives, shape)],
    2,
  );
  const table = tf.concat(
    [tf.slice(all, [0, 0, 0, 0], [n, k, 3, bins]), tf.slice(all, [0, 0, 0, 1], [n, k, 3, bins])],
    2,
  ) as tf.Tensor4D;
  const picked = tf.unstack(selectBins(v, table, byOutput ? Y_LEFT : X_LEFT), 2) as tf.Tensor2D[];
  const [x0, y0, dl, x1, y1, dr] = picked as [
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor2D,
  ];
  return { x0, w: tf.sub(x1, x0), y0, h: tf.sub(y1, y0), dl, dr };
}

/** Mask of elements inside [−B, B] and the input clamped into it. */
function inside(v: tf.Tensor2D, bound: number): { mask: tf.Tensor2D; clamped: tf.Tensor2D } {
  // One comparison keeps the mask cheap; its gradient is zero (tfjs' GreaterEqual kernel, see bool-grads.ts).
  const mask = tf.greaterEqual(bound, tf.abs(v)) as tf.Tensor2D;
  return { mask, clamped: tf.clipByValue(v, -bound, bound) };
}

/**
 * Forward spline: y and log dy/dx per element (`[batch, k]` each, 0 outside [−B, B]).
 * Allocates intermediates: call inside `tf.tidy`.
 */
export function splineForward(
  x: tf.Tensor2D,
  p: SplineParams,
  shape: SplineShape,
): { y: tf.Tensor2D; logDeriv: tf.Tensor2D } {
  const { mask, clamped } = inside(x, shape.bound);
  const { x0, w, y0, h, dl, dr } = locate(clamped, p, shape, false);
  const s = tf.div(h, w);
  // No clip on ξ: rounding can put it a hair outside [0, 1], harmlessly, and a clip would zero its gradient.
  const xi = tf.div(tf.sub(clamped, x0), w);
  const xi1m = tf.sub(1, xi);
  const cross = tf.mul(xi, xi1m);
  const denom = tf.add(s, tf.mul(tf.sub(tf.add(dr, dl), tf.mul(2, s)), cross));
  const numer = tf.add(tf.mul(s, tf.square(xi)), tf.mul(dl, cross));
  const y = tf.add(y0, tf.div(tf.mul(h, numer), denom));
  const dnum = tf.add(
    tf.add(tf.mul(dr, tf.square(xi)), tf.mul(tf.mul(2, s), cross)),
    tf.mul(dl, tf.square(xi1m)),
  );
  const logDeriv = tf.sub(tf.add(tf.mul(2, tf.log(s)), tf.log(dnum)), tf.mul(2, tf.log(denom)));
  return {
    y: tf.where(mask, y, x) as tf.Tensor2D,
    logDeriv: tf.where(mask, logDeriv, tf.zerosLike(x)) as tf.Tensor2D,
  };
}

/**
 * Inverse spline, y → x, solving the per-bin quadratic with the numerically stable root
 * ξ = 2c / (−b − √(b² − 4ac)) (Durkan et al. 2019, App. A.3). Call inside `tf.tidy`.
 */
export function splineInverse(y: tf.Tensor2D, p: SplineParams, shape: SplineShape): tf.Tensor2D {
  const { mask, clamped } = inside(y, shape.bound);
  const { x0, w, y0, h, dl, dr } = locate(clamped, p, shape, true);
  const s = tf.div(h, w);
  const dy = tf.sub(clamped, y0);
  const curv = tf.sub(tf.add(dr, dl), tf.mul(2, s));
  const a = tf.add(tf.mul(h, tf.sub(s, dl)), tf.mul(dy, curv));
  const b = tf.sub(tf.mul(h, dl), tf.mul(dy, curv));
  const c = tf.neg(tf.mul(s, dy));
  const disc = tf.relu(tf.sub(tf.square(b), tf.mul(4, tf.mul(a, c))));
  const xi = tf.clipByValue(tf.div(tf.mul(2, c), tf.sub(tf.neg(b), tf.sqrt(disc))), 0, 1);
  const x = tf.add(x0, tf.mul(xi, w));
  return tf.where(mask, x, y) as tf.Tensor2D;
}
