import { describe, expect, it } from 'vitest';
import { createRng } from '../../../src/core/rng.js';
import { TAIL_BUDGET_DRIFT } from '../../../src/detector/thresholds/adaptive.js';
import { type AnomalyLearning, decideThenUpdate } from '../../../src/detector/thresholds/factory.js';
import { QuantileThreshold } from '../../../src/detector/thresholds/quantile.js';
import { InvalidOptionError, SerializationError } from '../../../src/errors.js';
import { exactQuantile, normalQuantile, normals } from './helpers.js';

const ACC = 0.005;

function feed(policy: QuantileThreshold, values: readonly number[], batch = 500): void {
  for (let i = 0; i < values.length; i += batch) policy.update(values.slice(i, i + batch));
}

describe('QuantileThreshold', () => {
  it('converges to the true quantile of a normal within sketch accuracy plus sampling error', () => {
    const q = 0.01;
    const policy = new QuantileThreshold({ quantile: q, window: 40_000, relativeAccuracy: ACC });
    const values = normals(11, 40_000, -10, 2);
    feed(policy, values);
    const exact = exactQuantile(values, q);
    const truth = -10 + 2 * normalQuantile(q);
    expect(truth).toBeCloseTo(-14.6527, 3);
    // Against the exact empirical quantile of the same data: within the sketch's relative accuracy.
    expect(Math.abs(policy.threshold - exact)).toBeLessThanOrEqual(2 * ACC * Math.abs(exact));
    // Against the population quantile: also within 4 standard errors of the sample quantile.
    const density = Math.exp(-(normalQuantile(q) ** 2) / 2) / Math.sqrt(2 * Math.PI) / 2;
    const se = Math.sqrt((q * (1 - q)) / values.length) / density;
    expect(Math.abs(policy.threshold - truth)).toBeLessThanOrEqual(2 * ACC * Math.abs(truth) + 4 * se);
  });

  it('alerts at about rate q on in-distribution data once ready', () => {
    const policy = new QuantileThreshold({ quantile: 0.01, window: 20_000 });
    feed(policy, normals(12, 20_000, -8, 1.5));
    const d = policy.decide(normals(13, 10_000, -8, 1.5));
    const rate = d.isAnomaly.filter(Boolean).length / 10_000;
    // Binomial sd at n=10⁴, q=0.01 is 0.001; allow 4 sd plus the sketch's and estimate's slack.
    expect(rate).toBeGreaterThan(0.005);
    expect(rate).toBeLessThan(0.016);
  });

  it('follows a level shift within `window` events', () => {
    const window = 4000;
    const policy = new QuantileThreshold({ quantile: 0.01, window });
    feed(policy, normals(14, 3 * window, -10, 1));
    const before = policy.threshold;
    expect(before).toBeCloseTo(-10 + normalQuantile(0.01), 0);
    const shifted = normals(15, window, -30, 1);
    feed(policy, shifted.slice(0, window / 2));
    // Half a window in, old data still holds the low quantile near the new level's tail.
    expect(policy.threshold).toBeLessThan(-25);
    feed(policy, shifted.slice(window / 2));
    const after = policy.threshold;
    expect(Math.abs(after - (-30 + normalQuantile(0.01)))).toBeLessThan(0.5);
  });

  it('does not alert before minObservations and reports −∞ without data', () => {
    const policy = new QuantileThreshold({ quantile: 0.01, window: 1000, minObservations: 200 });
    expect(policy.threshold).toBe(Number.NEGATIVE_INFINITY);
    let d = policy.decide([-1e6, Number.NaN]);
    expect(d.ready).toBe(false);
    expect(d.isAnomaly).toEqual([false, false]);
    expect(d.anomalyScore).toEqual([0, 1]);
    feed(policy, normals(16, 199, 0, 1));
    expect(policy.decide([-1e6]).isAnomaly).toEqual([false]);
    feed(policy, [0]);
    d = policy.decide([-1e6, Number.NaN, 0]);
    expect(d.ready).toBe(true);
    expect(d.isAnomaly).toEqual([true, true, false]);
    expect(d.anomalyScore[0]).toBeCloseTo(1 - 1 / 201, 12);
  });

  it('stays calibrated prequentially on clean data', () => {
    const policy = new QuantileThreshold({ quantile: 0.01, window: 8000 });
    const stream = normals(26, 32_000, -9, 2);
    let alerts = 0;
    let judged = 0;
    for (let i = 0; i < stream.length; i += 200) {
      const d = decideThenUpdate(policy, stream.slice(i, i + 200));
      if (d.ready) {
        judged += d.isAnomaly.length;
        alerts += d.isAnomaly.filter(Boolean).length;
      }
    }
    expect(alerts / judged).toBeGreaterThan(0.006);
    expect(alerts / judged).toBeLessThan(0.014);
    expect(Math.abs(policy.threshold - (-9 + 2 * normalQuantile(0.01)))).toBeLessThan(0.3);
  });

  it('learns flagged events only within the tail budget, least extreme first', () => {
    // window 4000, q 0.01: slack = 3·√40 ≈ 18.97 tokens, reserve cap ≈ 19.97.
    const policy = new QuantileThreshold({ quantile: 0.01, window: 4000, minObservations: 100 });
    policy.update(normals(17, 3000, -5, 1));
    expect(policy.observations).toBe(3000);
    // The outliers must lie above the gross-outlier fence (≈ −5 − 1.645 − 4·1.645 ≈ −13.2 here), which
    // drops values regardless of the budget; they used to be −100..−149, which the fence now removes.
    expect(policy.outlierFence()).toBeLessThan(-12.6);
    const outliers = Array.from({ length: 50 }, (_, i) => -11 - 0.03 * i);
    const batch = [...normals(18, 50, -5, 1), ...outliers];
    const flags = batch.map((_, i) => i >= 50);
    // Budget: already at the reserve cap (3000 events accrued far more), so ⌊19.97⌋ = 19 tokens.
    policy.update(batch, flags);
    expect(policy.observations).toBe(3000 + 50 + 19);
    const n = policy.observations;
    const pOf = (x: number) => 1 - policy.decide([x]).anomalyScore[0]!;
    // −11..−11.54 were learned, −11.57..−12.47 were not (no normal value lies below −10 here).
    expect(pOf(-11.8)).toBeCloseTo(1 / (n + 1), 12);
    expect(pOf(-10.5)).toBeGreaterThanOrEqual(20 / (n + 1));
    // The budget is spent (0.97 tokens left): the next flagged events are only learned as tokens accrue.
    policy.update([-11.2], [true]);
    expect(policy.observations).toBe(n);
  });

  it('accrues tail budget at rate·(1 + TAIL_BUDGET_DRIFT) per event, not at rate + slack/window', () => {
    // Regression: accruing rate + slack/window (≈ 2.3·rate for q = 0.001, window 5000) let a sustained
    // contamination above the rate feed anomalies into the reference faster than the tail refills.
    const q = 0.01;
    const policy = new QuantileThreshold({ quantile: q, window: 4000, minObservations: 100 });
    policy.update(normals(28, 3000, -5, 1));
    const flaggedBatch = (k: number) => Array.from({ length: k }, (_, i) => -11 - 0.01 * i);
    // Spend the full reserve: ⌊19.97⌋ = 19 of the 60 flagged values are learned.
    policy.update(flaggedBatch(60), new Array<boolean>(60).fill(true));
    const spent = policy.observations;
    expect(spent).toBe(3000 + 19);
    // Tokens left: 3·√40 + 1 − 19 ≈ 0.97 (the batch's own accrual was capped away), plus 380 events' worth.
    const tokens = 3 * Math.sqrt(40) + 1 - 19 + 380 * q * (1 + TAIL_BUDGET_DRIFT);
    policy.update(normals(29, 360, -5, 1), new Array<boolean>(360).fill(false));
    policy.update(flaggedBatch(20), new Array<boolean>(20).fill(true));
    // 5.72 tokens: 5 are learned. Exactly-the-rate accrual would give 4, rate + slack/window 6.
    expect(Math.floor(tokens)).toBe(5);
    expect(policy.observations - spent - 360).toBe(5);
  });

  it('never learns values below the outlier fence when verdicts are given, but does without them', () => {
    const policy = new QuantileThreshold({ quantile: 0.01, window: 4000, minObservations: 100 });
    // Fewer than 200 reference values: the fence comes from the batch itself (99 normals, 1 outlier).
    const first = normals(30, 99, -5, 1);
    policy.update([...first, -60], new Array<boolean>(100).fill(false));
    expect(policy.observations).toBe(99);
    const reference = [...first, ...normals(31, 2000, -5, 1)];
    policy.update(reference.slice(99));
    // From the reference: Q₀.₀₅ − 4·(Q₀.₅ − Q₀.₀₅), ≈ −5 − 5·1.645 ≈ −13.2 for N(−5, 1), up to the
    // sketch's relative accuracy on each quantile.
    const q05 = exactQuantile(reference, 0.05);
    const q50 = exactQuantile(reference, 0.5);
    const tolerance = 5 * 0.005 * Math.abs(q05) + 4 * 0.005 * Math.abs(q50) + 0.05;
    const fence = policy.outlierFence();
    expect(Math.abs(fence - (q05 - 4 * (q50 - q05)))).toBeLessThan(tolerance);
    expect(fence).toBeGreaterThan(-14.5);
    expect(fence).toBeLessThan(-12.5);
    const n = policy.observations;
    policy.update([-15, -12, -50], [false, false, true]);
    expect(policy.observations).toBe(n + 1);
    // Without verdicts the caller vouches for every value (e.g. a level shift, the 'learn' mode).
    policy.update([-15, -50]);
    expect(policy.observations).toBe(n + 3);
  });

  it('resists a burst of anomalies that learning everything would absorb', () => {
    const recall = (anomalies: AnomalyLearning): number => {
      const policy = new QuantileThreshold({ quantile: 0.01, window: 10_000 });
      const rng = createRng(27);
      let caught = 0;
      let attacks = 0;
      for (let b = 0; b < 200; b++) {
        const burst = b >= 80;
        const isAttack: boolean[] = [];
        const batch = Array.from({ length: 250 }, () => {
          const attack = burst && rng.uniform() < 0.2;
          isAttack.push(attack);
          return attack ? -9 + 0.5 * rng.normal() : -6 + rng.normal();
        });
        const d = decideThenUpdate(policy, batch, { anomalies });
        d.isAnomaly.forEach((flag, i) => {
          if (isAttack[i]) {
            attacks++;
            if (flag) caught++;
          }
        });
      }
      return caught / attacks;
    };
    expect(recall('budget')).toBeGreaterThan(0.6);
    expect(recall('learn')).toBeLessThan(0.3);
    expect(recall('drop')).toBeGreaterThan(0.95);
  });

  it('round-trips state and continues identically', () => {
    const a = new QuantileThreshold({ quantile: 0.01, window: 3000 });
    feed(a, normals(19, 2500, -7, 2));
    const b = new QuantileThreshold({ quantile: 0.01, window: 3000 });
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    const next = normals(20, 600, -7, 2);
    expect(b.decide(next)).toEqual(a.decide(next));
    a.update(next);
    b.update(next);
    expect(b.threshold).toBe(a.threshold);
    expect(() => b.setState({ ...a.getState(), policy: 'pvalue' })).toThrow(SerializationError);
  });

  it('validates options', () => {
    expect(() => new QuantileThreshold({ quantile: 0.7, window: 1000 })).toThrow(InvalidOptionError);
    expect(() => new QuantileThreshold({ quantile: 0.001, window: 1000 })).toThrow(
      /window too small for quantile=0.001: must be >= 1334 to keep 1000 observations \(got 1000\)/,
    );
    expect(() => new QuantileThreshold({ quantile: 0.01, window: 1000, minObservations: 10 })).toThrow(
      /minObservations/,
    );
  });
});
