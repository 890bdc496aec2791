/** Φ⁻¹(3/4): σ = MAD · 1.4826 for normal data. */
const MAD_TO_SD = 1.482602218505602;
/** √(π/2): σ = mean absolute deviation · 1.2533 for normal data. */
const MEAN_AD_TO_SD = 1.2533141373155001;

/** Median of `values` (sorted in place), mean of the two middle values for an even count; NaN when empty. */
function medianInPlace(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  values.sort();
  const mid = n >> 1;
  return n % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

/**
 * Robust location and variance of column `j` of `n` row-major rows of `d` values: the median, and
 * σ = 1.4826·MAD. When more than half the values are equal (MAD 0: a discrete or mostly-constant feature),
 * σ = 1.2533 · the mean absolute deviation from the median without the ⌈n/64⌉ largest deviations, so one
 * absurd value cannot inflate it either. All values equal → variance 0.
 */
export function robustColumn(
  rows: ArrayLike<number>,
  n: number,
  d: number,
  j: number,
): { mean: number; variance: number } {
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) col[i] = rows[i * d + j]!;
  const median = medianInPlace(col);
  for (let i = 0; i < n; i++) col[i] = Math.abs(col[i]! - median);
  const mad = medianInPlace(col); // also sorts the deviations ascending
  let sd = MAD_TO_SD * mad;
  if (!(sd > 0)) {
    const keep = n - Math.ceil(n / 64);
    let sum = 0;
    for (let i = 0; i < keep; i++) sum += col[i]!;
    sd = keep > 0 ? (MEAN_AD_TO_SD * sum) / keep : 0;
  }
  return { mean: median, variance: sd * sd };
}
