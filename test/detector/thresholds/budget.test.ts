import { describe, expect, it } from 'vitest';
import { QuantileThreshold } from '../../../src/detector/thresholds/quantile.js';
import {
  MAX_LOG_CORRECTION,
  RATE_GAIN,
  RateController,
} from '../../../src/detector/thresholds/rate-control.js';
import { runPolicy, type ScoreModel, scoreStream } from './budget-streams.js';

const q = 0.01;
const N = 30_000;

function budgetPolicy(): QuantileThreshold {
  return new QuantileThreshold({ quantile: q, window: 5000, minObservations: 256, budget: 'all' });
}

/** Score streams (log-likelihoods, nats) the threshold meets in practice. */
const STREAMS: Record<string, ScoreModel> = {
  // The model improves: scores rise by 12 nats and tighten (time constant 4000 events).
  improving: (t, z) => -20 + 12 * (1 - Math.exp(-t / 4000)) + (2 + 4 * Math.exp(-t / 4000)) * z,
  // Drift away from what the model knows: scores fall by 6 nats.
  worsening: (t, z) => -8 - 6 * (1 - Math.exp(-t / 4000)) + 2 * z,
  // 5 % gross anomalies.
  contaminated: (_t, z, u) => (u < 0.05 ? -40 + 5 * z : -10 + 2 * z),
  // 3 % of events in a long lower tail (point masses, rare modes).
  heavyTail: (_t, z, u) => -10 + 2 * z - (u < 0.03 ? 10 * Math.abs(z) + 10 : 0),
};

describe('alert budget (quantile policy, budget all)', () => {
  it('holds the realised rate within ±20 % of q on a stationary stream', () => {
    for (const seed of [1, 2, 3]) {
      const r = runPolicy(
        budgetPolicy(),
        scoreStream(seed, N, (_t, z) => -10 + 2 * z),
      );
      expect(r.ready).toBeGreaterThan(N - 400);
      expect(r.overall / q).toBeGreaterThan(0.8);
      expect(r.overall / q).toBeLessThan(1.2);
    }
  });

  for (const [name, model] of Object.entries(STREAMS)) {
    it(`holds within 0.5–1.5× of q on a ${name} stream, without bursts`, () => {
      const r = runPolicy(budgetPolicy(), scoreStream(11, N, model));
      expect(r.overall / q).toBeGreaterThan(0.5);
      expect(r.overall / q).toBeLessThan(1.5);
      // Per block of 2500 events (25 alerts budgeted): no burst above twice the budget.
      expect(Math.max(...r.blocks) / q).toBeLessThan(2);
    });
  }

  it('bounds the burst after an abrupt level shift by what the controller can absorb', () => {
    // −4 nats (2 sd) at once: 37 % of events fall below the old threshold until the level comes down.
    const r = runPolicy(
      budgetPolicy(),
      scoreStream(11, N, (t, z) => (t < N / 2 ? -10 : -14) + 2 * z),
    );
    expect(r.overall / q).toBeGreaterThan(0.5);
    expect(r.overall / q).toBeLessThan(1.5);
    const excess = (Math.max(...r.blocks) - q) * 2500;
    expect(excess).toBeLessThan(MAX_LOG_CORRECTION / RATE_GAIN);
  });

  it('the normal-tail quantile (budget normal) alerts far above q on the same streams', () => {
    const normal = (): QuantileThreshold =>
      new QuantileThreshold({ quantile: q, window: 5000, minObservations: 256 });
    for (const name of ['worsening', 'contaminated', 'heavyTail'] as const) {
      const r = runPolicy(normal(), scoreStream(11, N, STREAMS[name]!));
      expect(r.overall / q, name).toBeGreaterThan(1.9);
    }
  });

  it('round-trips the controller state and continues identically', () => {
    const values = scoreStream(5, 8000, STREAMS.worsening!);
    const a = budgetPolicy();
    runPolicy(a, values.slice(0, 6000));
    const b = budgetPolicy();
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    expect(b.getState()).toEqual(a.getState());
    expect(a.getState().logLevel).not.toBe(0);
    expect(a.getState().alertCredit).toBeGreaterThanOrEqual(0);
    // A state saved before the alert credit existed restores with a full credit.
    const { alertCredit: _credit, ...old } = a.getState();
    const c = budgetPolicy();
    c.setState(old);
    expect(c.getState().alertCredit).toBe(5);
    const next = values.slice(6000);
    expect(b.decide(next)).toEqual(a.decide(next));
    a.update(next);
    b.update(next);
    expect(b.threshold).toBe(a.threshold);
  });
});

describe('RateController', () => {
  it('telescopes: alerts = rate·events − Δu/gain while unclamped', () => {
    const c = new RateController(0.01, 0.1);
    const batches: [number, number][] = [
      [64, 3],
      [64, 0],
      [64, 1],
      [64, 0],
      [64, 2],
    ];
    for (const [n, a] of batches) c.observe(n, a);
    const events = 5 * 64;
    const alerts = 6;
    expect(alerts).toBeCloseTo(0.01 * events - c.logLevel / 0.1, 9);
    expect(c.level).toBeCloseTo(0.01 * Math.exp(c.logLevel), 12);
  });

  it('rations alerts with a credit of max(5, 500·rate) that accrues 1.5·rate per event', () => {
    const c = new RateController(0.01);
    expect(c.burstAlerts).toBe(5);
    expect(new RateController(0.05).burstAlerts).toBe(25);
    expect(c.allowance(64)).toBe(5);
    c.observe(64, 5);
    expect(c.logLevel).toBeCloseTo(0.1 * (0.64 - 5), 12);
    expect(c.alertCredit).toBe(0);
    expect(c.allowance(64)).toBe(0);
    c.observe(64, 0);
    c.observe(64, 0);
    expect(c.alertCredit).toBeCloseTo(2 * 1.5 * 0.64, 12);
    expect(c.allowance(64)).toBe(2);
    c.alertCredit = 99;
    expect(c.alertCredit).toBe(5);
    c.alertCredit = Number.NaN;
    expect(c.alertCredit).toBe(5);
  });

  it('alerts on the most extreme crossings of a batch when the credit runs short', () => {
    const p = budgetPolicy();
    runPolicy(
      p,
      scoreStream(3, 2000, (_t, z) => -10 + 2 * z),
    );
    const state = p.getState();
    expect(state.alertCredit).toBeGreaterThan(0);
    // A batch far below the threshold: every value crosses, only the credit's worth alerts.
    const batch = Array.from({ length: 64 }, (_, i) => -100 - (i % 7) - i / 100);
    const d = p.decide(batch);
    const alerted = batch.filter((_, i) => d.isAnomaly[i]);
    const allowance = Math.floor(Math.min(5, state.alertCredit! + 1.5 * q * 64));
    expect(alerted).toHaveLength(allowance);
    const lowest = [...batch].sort((a, b) => a - b).slice(0, allowance);
    expect(alerted.sort((a, b) => a - b)).toEqual(lowest);
    // Still calibrated scores: a rationed crossing scores as high as an alerting one.
    expect(Math.min(...d.anomalyScore)).toBeGreaterThan(0.99);
  });

  it('clamps the level to [rate/64, 0.5]', () => {
    const c = new RateController(0.2);
    c.observe(100, 100);
    expect(c.logLevel).toBe(-MAX_LOG_CORRECTION);
    expect(c.level).toBeCloseTo(0.2 / 64, 12);
    c.observe(100_000, 0);
    expect(c.level).toBeCloseTo(0.5, 12);
    c.logLevel = Number.NaN;
    expect(c.logLevel).toBe(0);
  });
});
