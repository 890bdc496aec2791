/**
 * Tick values for the axes whose scale vega ticks poorly: symlog (vega places linear ticks on it, so a
 * heavy-tailed score gets three labels) and log (vega labels every minor tick). Both return 1-2-5 steps
 * per decade, thinned until they fit the axis.
 */

/** Decade steps tried, densest first, until at most `max` ticks remain. */
const MANTISSAS: readonly (readonly number[])[] = [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 5], [1, 3], [1]];

function decadeTicks(lo: number, hi: number, mantissas: readonly number[], every: number): number[] {
  const out: number[] = [];
  const first = Math.floor(Math.log10(lo));
  const last = Math.ceil(Math.log10(hi));
  for (let e = first; e <= last; e++) {
    if ((e - first) % every !== 0) continue;
    for (const m of mantissas) {
      // Rounded so 3 × 10^-4 prints as 0.0003, not 0.00030000000000000003.
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

/**
 * Positive tick values between `lo` and `hi` (> 0) on a log axis: the densest of 1…9, 1-2-5, 1-3 or 1 per
 * decade (then every other decade, …) that gives at most `max`; not `dense`: 1…9 is not tried.
 */
export function logTicks(lo: number, hi: number, max = 10, dense = true): number[] {
  if (!(lo > 0) || !(hi >= lo) || !Number.isFinite(hi)) return [];
  for (const m of dense ? MANTISSAS : MANTISSAS.slice(1)) {
    const ticks = decadeTicks(lo, hi, m, 1);
    if (ticks.length <= max) return ticks;
  }
  for (let every = 2; ; every++) {
    const ticks = decadeTicks(lo, hi, [1], every);
    if (ticks.length <= max) return ticks;
  }
}

/** Position of `v` on a symlog axis with constant 1 (vega's symlog transform). */
function symlog(v: number): number {
  return Math.sign(v) * Math.log1p(Math.abs(v));
}

/** `ticks` (ascending), each kept only if at least `gap` (symlog units) above the last kept. */
function keepSpaced(ticks: readonly number[], gap: number): number[] {
  const kept: number[] = [];
  for (const v of ticks) if (kept.length === 0 || symlog(v) - symlog(kept.at(-1)!) >= gap) kept.push(v);
  return kept;
}

/** `ticks` (ascending) thinned to `gap`: from 0 outwards on both sides when 0 is one, so 0 stays. */
function spaced(ticks: readonly number[], gap: number): number[] {
  const zero = ticks.indexOf(0);
  if (zero < 0) return keepSpaced(ticks, gap);
  const up = keepSpaced(ticks.slice(zero), gap);
  const down = keepSpaced(
    ticks
      .slice(0, zero + 1)
      .map((v) => -v)
      .reverse(),
    gap,
  ).map((v) => -v);
  return [...down.reverse().slice(0, -1), ...up];
}

/**
 * Tick values between `lo` and `hi` on a symlog axis (constant 1) of `lengthPx` pixels: 0 when in range,
 * then ± 1-2-5, 1-3 or 1 per decade, the densest whose labels stay `minGapPx` apart (near 0 the scale is
 * linear, so ±1 may go to make room).
 */
export function symlogTicks(lo: number, hi: number, lengthPx: number, minGapPx = 16): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) return [];
  const gap = ((symlog(hi) - symlog(lo)) * minGapPx) / lengthPx;
  const candidates = (m: readonly number[]): number[] => {
    const pos = hi >= 1 ? decadeTicks(Math.max(lo, 1), hi, m, 1) : [];
    const neg = lo <= -1 ? decadeTicks(Math.max(-hi, 1), -lo, m, 1) : [];
    return [...neg.map((v) => -v).reverse(), ...(lo <= 0 && hi >= 0 ? [0] : []), ...pos];
  };
  for (const m of MANTISSAS.slice(1)) {
    const all = candidates(m);
    const kept = spaced(all, gap);
    if (kept.length === all.length) return kept;
  }
  return spaced(candidates([1]), gap);
}

/** The smallest and largest finite value of `xs` ([0, 1] when there is none). */
export function finiteExtent(xs: Iterable<number>): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const x of xs) {
    if (!Number.isFinite(x)) continue;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}
