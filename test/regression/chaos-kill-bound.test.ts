/**
 * Regression: a fresh-clone CI run failed the chaos test's kill bound (8,712 repeats against 6,750 =
 * highWaterMark + A's busiest 2 s), because under load A's last accepted commit was older than two commit
 * intervals. The bound now spans from the sample before the second-to-last observed commit (commits are
 * serialised, so the last one read its positions after that) to the kill.
 */
import { describe, expect, it } from 'vitest';
import { type CounterPoint, rateSamples } from '../helpers/chaos-accounting.js';

/** A job consuming 1,000 records/s, sampled every 200 ms, whose commits are accepted at `commitAt` (ms). */
function job(commitAt: readonly number[], untilMs: number): CounterPoint[] {
  const points: CounterPoint[] = [];
  for (let t = 0; t <= untilMs; t += 200) {
    points.push({ t, consumed: t, commits: commitAt.filter((c) => c <= t).length });
  }
  return points;
}

describe('chaos accounting: the span a killed job may not have committed', () => {
  it('is about two commit intervals when commits come every second', () => {
    const s = rateSamples(job([1000, 2000, 3000, 4000, 5000], 5400));
    // second-to-last commit (4000) was first seen at t=4000: the last sample before it is 3800
    expect(s.uncommittedSpanMs(5500)).toBe(5500 - 3800);
    expect(s.maxIn(s.uncommittedSpanMs(5500))).toBe(1600);
  });

  it('grows when commits are slow under load, so the bound follows the commits actually made', () => {
    const s = rateSamples(job([1000, 2000, 5000], 8000));
    // last commit seen at 5000, the one before at 2000: positions read no earlier than 1800
    expect(s.uncommittedSpanMs(8100)).toBe(8100 - 1800);
    expect(s.maxIn(s.uncommittedSpanMs(8100))).toBeGreaterThan(s.maxIn(2000));
  });

  it('ignores samples after the instant asked about and counts from the first without two commits', () => {
    const s = rateSamples(job([3000], 6000));
    expect(s.uncommittedSpanMs(2500)).toBe(2500);
    expect(s.uncommittedSpanMs(-1)).toBe(Number.POSITIVE_INFINITY);
  });
});
