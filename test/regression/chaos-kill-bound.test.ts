/**
 * Regression: fresh-clone CI runs failed or nearly failed the chaos test's kill bound (8,712 repeats
 * against 6,750; 8,754 against 9,503), a fixed 2 s of A's sampled consumption: after the scores topic came
 * back, A worked off its backlog in a burst and the samples (every 200 ms) missed the burst right before
 * the kill. The bound now counts what A consumed since its last accepted commit may have read its
 * positions (commits are serialised: after the sample before the second-to-last commit), up to a last
 * scrape taken right before the kill.
 */
import { describe, expect, it } from 'vitest';
import { type CounterPoint, rateSamples } from '../helpers/chaos-accounting.js';

/** A job consuming `rate(t)` records/ms, sampled every 200 ms up to `untilMs`, commits accepted at `commitAt`. */
function job(commitAt: readonly number[], untilMs: number, rate = (_t: number) => 1): CounterPoint[] {
  const points: CounterPoint[] = [];
  let consumed = 0;
  for (let t = 0; t <= untilMs; t += 200) {
    points.push({ t, consumed, commits: commitAt.filter((c) => c <= t).length });
    consumed += 200 * rate(t);
  }
  return points;
}

describe('chaos accounting: what a killed job consumed since its last commit', () => {
  it('spans about two commit intervals when commits come every second', () => {
    const s = rateSamples(job([1000, 2000, 3000, 4000, 5000], 5400));
    // the second-to-last commit (4000) was first seen at t = 4000: the last sample before it is 3800
    expect(s.sinceCommit()).toEqual({ consumed: 5400 - 3800, spanMs: 5400 - 3800 });
  });

  it('counts a burst right before the last sample in full, which a fixed window of the rate misses', () => {
    // 1 record/ms, then 10/ms in the last second; commits stalled since 2000
    const s = rateSamples(job([1000, 2000], 6000, (t) => (t >= 5000 ? 10 : 1)));
    const since = s.sinceCommit();
    expect(since.spanMs).toBe(6000 - 800);
    expect(since.consumed).toBe(4200 + 10 * 1000);
    expect(since.consumed).toBeGreaterThan(s.maxIn(2000));
  });

  it('counts from the first sample without two commits, and needs a sample', () => {
    expect(rateSamples(job([3000], 1000)).sinceCommit()).toEqual({ consumed: 1000, spanMs: 1000 });
    expect(() => rateSamples([]).sinceCommit()).toThrow(/no samples/);
  });
});
