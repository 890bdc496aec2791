/**
 * Float64 inverse of W = Π·L·U for `LULinear.inverse` (tfjs has no triangular solve). Matrices are dense
 * row-major `Float64Array`s of size d·d; cost O(d³), negligible for the dims flows use (≤ a few hundred).
 */

/** Inverse of the unit-lower-triangular matrix whose strictly lower part is that of `l` (diagonal taken as 1). */
export function invertUnitLower(l: ArrayLike<number>, d: number): Float64Array {
  const x = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    x[c * d + c] = 1;
    for (let i = c + 1; i < d; i++) {
      let acc = 0;
      for (let k = c; k < i; k++) acc -= l[i * d + k]! * x[k * d + c]!;
      x[i * d + c] = acc;
    }
  }
  return x;
}

/** Inverse of the upper-triangular matrix given by the strictly upper part of `u` and the diagonal `diag`. */
export function invertUpper(u: ArrayLike<number>, diag: ArrayLike<number>, d: number): Float64Array {
  const x = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    x[c * d + c] = 1 / diag[c]!;
    for (let i = c - 1; i >= 0; i--) {
      let acc = 0;
      for (let k = i + 1; k <= c; k++) acc -= u[i * d + k]! * x[k * d + c]!;
      x[i * d + c] = acc / diag[i]!;
    }
  }
  return x;
}

/** a·b for square d×d row-major matrices. */
export function matMul64(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j]! += aik * b[k * d + j]!;
    }
  }
  return out;
}

/**
 * W⁻¹ for W = Π·L·U, where Π[i][perm[i]] = 1 (row i of Π·M is row perm[i] of M), L is unit lower with
 * strictly lower part `lower`, and U is upper with strictly upper part `upper` and diagonal `diag`.
 * W⁻¹ = U⁻¹·L⁻¹·Πᵀ, and (B·Πᵀ)[i][j] = B[i][perm[j]].
 */
export function invertPLU(
  perm: readonly number[],
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  diag: ArrayLike<number>,
): Float64Array {
  const d = perm.length;
  const b = matMul64(invertUpper(upper, diag, d), invertUnitLower(lower, d), d);
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) out[i * d + j] = b[i * d + perm[j]!]!;
  }
  return out;
}
