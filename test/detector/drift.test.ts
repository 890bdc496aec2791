import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import {
  type DriftEvent,
  DriftMonitor,
  type DriftMonitorOptions,
  measureReference,
  serializeDriftEvent,
} from '../../src/detector/drift.js';
import { InvalidOptionError, SerializationError } from '../../src/errors.js';
import type { ScoredEvent } from '../../src/streams/types.js';

const T0 = 1_700_000_000_000;

/** Scored events with the given log-likelihoods, `stepMs` apart from `start` (index = offset). */
function events(lls: readonly number[], start = 0, stepMs = 1000): ScoredEvent[] {
  return lls.map((ll, i) => ({
    ref: { topic: 't', partition: 0, offset: String(start + i) },
    timestamp: T0 + (start + i) * stepMs,
    key: null,
    status: 'scored',
    logLikelihood: ll,
    anomalyScore: 0,
    threshold: -50,
    isAnomaly: false,
    modelVersion: 0,
  }));
}

/** −9, −11, −9, …: median and mean −10, MAD 1. */
const alternating = (n: number): number[] => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? -9 : -11));
const constant = (n: number, v: number): number[] => new Array<number>(n).fill(v);

const base: DriftMonitorOptions = {
  window: 20,
  referenceEvents: 100,
  level: 1,
  forMs: 10_000,
  afterConfirmed: 'keep',
};

/** A monitor whose reference is the alternating ±1 around −10 and whose window is full of `fill`. */
function primed(options: Partial<DriftMonitorOptions> = {}, fill = -10): { m: DriftMonitor; next: number } {
  const m = new DriftMonitor({ ...base, ...options });
  const o = { ...base, ...options };
  expect(m.observe(events(alternating(o.referenceEvents)))).toEqual([]);
  expect(m.observe(events(constant(o.window, fill), o.referenceEvents))).toEqual([]);
  return { m, next: o.referenceEvents + o.window };
}

describe('DriftMonitor score', () => {
  it('is the window mean drop below the reference mean in reference standard deviations', () => {
    const { m, next } = primed();
    const ref = m.getReference()!;
    const sampleStd = Math.sqrt(100 / 99); // ±1 around the mean, n − 1 denominator
    expect(ref.mean).toBeCloseTo(-10, 12);
    expect(ref.std).toBeCloseTo(sampleStd, 12);
    expect(ref.floor).toBeCloseTo(-10 - 6 * 1.4826, 12);
    expect(m.snapshot().score).toBeCloseTo(0, 12);
    // Replace half the window by −12: window mean −11, score 1/σ.
    m.observe(events(constant(10, -12), next));
    const snap = m.snapshot();
    expect(snap.windowMean).toBeCloseTo(-11, 12);
    expect(snap.score).toBeCloseTo(1 / sampleStd, 12);
    expect(snap.reference).toBeCloseTo(-10, 12);
    expect(snap.phase).toBe('watching');
  });

  it('winsorises extreme log-likelihoods to the reference band, in the reference and the window', () => {
    // Median −10 and MAD 1 despite the two gross values, which are raised to the floor.
    const ref = measureReference([...alternating(100), -1e6, Number.NEGATIVE_INFINITY, -9, -9], 6);
    const floor = -10 - 6 * 1.4826;
    expect(ref.floor).toBeCloseTo(floor, 9);
    expect(ref.ceiling).toBeCloseTo(-10 + 6 * 1.4826, 9);
    expect(ref.mean).toBeCloseTo((50 * -11 + 52 * -9 + 2 * floor) / 104, 9);
    const { m, next } = primed();
    m.observe(events([-1e9], next));
    expect(m.snapshot().windowMean).toBeCloseTo((19 * -10 + floor) / 20, 9);
  });

  it('is NaN until the reference is measured and the window is full, and skips warming and NaN events', () => {
    const m = new DriftMonitor(base);
    const warming = events(constant(500, -100)).map((e) => ({ ...e, status: 'warming' as const }));
    m.observe([...warming, ...events([Number.NaN, Number.NaN])]);
    expect(m.snapshot()).toMatchObject({ phase: 'reference', eventsSeen: 0 });
    m.observe(events(alternating(100)));
    expect(m.snapshot().phase).toBe('watching');
    m.observe(events(constant(19, -10), 100));
    expect(m.snapshot().score).toBeNaN();
    m.observe(events([-10], 119));
    expect(m.snapshot().score).toBeCloseTo(0, 12);
  });
});

describe('DriftMonitor confirmation on event time', () => {
  it('confirms once the score stayed at or above the level for forMs of event time', () => {
    const { m, next } = primed();
    // All of the window at −13 gives score ≈ 3. Events 1 s apart: above from the 7th (window mean ≤ −11).
    const out = m.observe(events(constant(40, -13), next));
    expect(out).toHaveLength(1);
    const started = out[0]!;
    const firstAbove = T0 + (next + 6) * 1000;
    expect(started).toMatchObject({ kind: 'started', startedAt: firstAbove, level: 1, reason: null });
    expect(started.timestamp - started.startedAt).toBe(10_000);
    expect(started.id).toBe(`drift@${firstAbove}`);
    expect(started.ref.offset).toBe(String(next + 16));
    expect(started.score).toBeGreaterThanOrEqual(1);
    expect(m.snapshot().phase).toBe('drifting');
  });

  it('counts event time, not events: the same excursion at 100 ms spacing needs ten times more events', () => {
    const { m, next } = primed({ window: 20 });
    // Keep the score ≈ 3 for 50 events = 4.9 s of event time at 100 ms: not enough for forMs 10 s.
    const fast = events(constant(56, -13), 0, 100).map((e, i) => ({
      ...e,
      ref: { ...e.ref, offset: String(next + i) },
      timestamp: T0 + (next + 1) * 1000 + i * 100,
    }));
    expect(m.observe(fast)).toEqual([]);
    expect(m.snapshot().score).toBeGreaterThan(2);
    const more = fast.map((e, i) => ({ ...e, timestamp: T0 + (next + 1) * 1000 + (56 + i) * 100 }));
    expect(m.observe(more).map((e) => e.kind)).toEqual(['started']);
  });

  it('does not confirm an excursion shorter than forMs', () => {
    const { m, next } = primed({ forMs: 30_000 });
    // The window keeps the score above the level for 20 s (21 events), then it is back to normal.
    const lls = [...constant(14, -13), ...constant(60, -10)];
    expect(m.observe(events(lls, next))).toEqual([]);
    expect(m.snapshot().phase).toBe('watching');
  });

  it('confirms immediately with forMs 0', () => {
    const { m, next } = primed({ forMs: 0 });
    const out = m.observe(events(constant(20, -13), next));
    expect(out).toHaveLength(1);
    expect(out[0]!.timestamp).toBe(out[0]!.startedAt);
  });
});

describe('DriftMonitor policy after a confirmed drift', () => {
  it("'keep' keeps the reference and ends the drift once the score stayed below the level for forMs", () => {
    const { m, next } = primed({ afterConfirmed: 'keep' });
    const ref = m.getReference();
    const during = m.observe(events(constant(500, -13), next));
    expect(during.map((e) => e.kind)).toEqual(['started']);
    expect(m.getReference()).toBe(ref);
    const after = m.observe(events(constant(100, -10), next + 500));
    expect(after.map((e) => [e.kind, e.reason])).toEqual([['ended', 'recovered']]);
    const ended = after[0]!;
    expect(ended.id).toBe(during[0]!.id);
    expect(ended.durationMs).toBe(ended.timestamp - ended.startedAt);
    expect(ended.peakScore).toBeGreaterThan(2.9);
    expect(m.snapshot().phase).toBe('watching');
  });

  it('keeps a drift open while the score stays between the recover level and the level (hysteresis)', () => {
    const { m, next } = primed({ afterConfirmed: 'keep' }); // level 1, recoverLevel 0.5
    expect(m.observe(events(constant(40, -13), next)).map((e) => e.kind)).toEqual(['started']);
    // Window mean −10.75: score ≈ 0.75, below the level but above the recover level, for 100 s.
    expect(m.observe(events(constant(100, -10.75), next + 40))).toEqual([]);
    expect(m.snapshot()).toMatchObject({ phase: 'drifting' });
    expect(m.snapshot().score).toBeCloseTo(0.75 / Math.sqrt(100 / 99), 9);
    const out = m.observe(events(constant(60, -10), next + 140));
    expect(out.map((e) => [e.kind, e.reason])).toEqual([['ended', 'recovered']]);
  });

  it("'reset-reference' waits one window, measures a new reference and ends the drift", () => {
    const { m, next } = primed({ afterConfirmed: 'reset-reference' });
    const shifted = [...alternating(1000)].map((v) => v - 3); // mean −13
    const out = m.observe(events(shifted, next));
    expect(out.map((e) => [e.kind, e.reason])).toEqual([
      ['started', null],
      ['ended', 'reference-reset'],
    ]);
    const [started, ended] = out as [DriftEvent, DriftEvent];
    // Confirmed at index c, then `window` events of settling and `referenceEvents` of measuring.
    const confirmedAt = Number(started.ref.offset);
    expect(Number(ended.ref.offset)).toBe(confirmedAt + 20 + 100);
    expect(m.getReference()!.mean).toBeCloseTo(-13, 9);
    // The new level is normal now: the refilled window scores ≈ 0.
    expect(m.snapshot().score).toBeCloseTo(0, 1);
    expect(m.snapshot().phase).toBe('watching');
  });

  it("'reset-reference' still ends with 'recovered' when the score recovers before the reset", () => {
    const { m, next } = primed({ afterConfirmed: 'reset-reference', referenceEvents: 100, window: 20 });
    const lls = [...constant(20, -13), ...constant(60, -10)];
    const out = m.observe(events(lls, next));
    expect(out.map((e) => [e.kind, e.reason])).toEqual([
      ['started', null],
      ['ended', 'recovered'],
    ]);
    expect(m.getReference()!.mean).toBeCloseTo(-10, 12);
  });
});

describe('DriftMonitor on stationary data', () => {
  it('emits nothing and keeps the score near 0 on a long iid stream with 1% gross anomalies', () => {
    const rng = createRng(5);
    const lls = Array.from({ length: 30_000 }, () =>
      rng.uniform() < 0.01 ? -1000 * rng.uniform() : -10 - Math.abs(2 * rng.normal()),
    );
    const m = new DriftMonitor({
      window: 500,
      referenceEvents: 2000,
      level: 0.3,
      forMs: 60_000,
      afterConfirmed: 'keep',
    });
    let maxScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < lls.length; i += 250) {
      expect(m.observe(events(lls.slice(i, i + 250), i))).toEqual([]);
      const s = m.snapshot().score;
      if (Number.isFinite(s)) maxScore = Math.max(maxScore, Math.abs(s));
    }
    // Noise of the score is ≈ 1/√window = 0.045.
    expect(maxScore).toBeLessThan(0.25);
  });
});

describe('DriftMonitor state', () => {
  it('round-trips through JSON: a restored monitor continues exactly like the original', () => {
    const rng = createRng(9);
    const lls = Array.from({ length: 3000 }, (_, i) => -10 + rng.normal() - (i > 1500 ? 2 : 0));
    const opts: DriftMonitorOptions = {
      ...base,
      window: 100,
      referenceEvents: 300,
      afterConfirmed: 'reset-reference',
    };
    const a = new DriftMonitor(opts);
    a.observe(events(lls.slice(0, 1800)));
    // Cut inside the drift, while the new reference is being measured.
    expect(a.getState()).toMatchObject({ phase: 'drifting', resetIn: 0 });
    expect(a.getState().referenceValues.length).toBeGreaterThan(0);
    const b = new DriftMonitor(opts);
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    expect(b.getState()).toEqual(a.getState());
    const rest = events(lls.slice(1800), 1800);
    const outA = a.observe(rest);
    expect(outA.length).toBeGreaterThan(0);
    expect(b.observe(rest)).toEqual(outA);
    expect(b.getState()).toEqual(a.getState());
  });

  it('rejects malformed or inconsistent states with SerializationError', () => {
    const m = new DriftMonitor(base);
    expect(() => m.setState({ version: 2 })).toThrow(SerializationError);
    const good = m.getState();
    expect(() => m.setState({ ...good, phase: 'watching' })).toThrow(/inconsistent/);
    expect(() => m.setState({ ...good, window: [Number.NaN] })).toThrow(SerializationError);
  });
});

describe('DriftMonitor options and serialisation', () => {
  it('rejects invalid options with a message naming the option', () => {
    const bad: [Partial<DriftMonitorOptions>, RegExp][] = [
      [{ window: 0 }, /window/],
      [{ referenceEvents: 1 }, /referenceEvents/],
      [{ level: 0 }, /level/],
      [{ forMs: -1 }, /forMs/],
      [{ afterConfirmed: 'never' as 'keep' }, /afterConfirmed/],
      [{ clipSigmas: 0 }, /clipSigmas/],
      [{ recoverLevel: 2 }, /recoverLevel/],
    ];
    for (const [o, msg] of bad) {
      expect(() => new DriftMonitor({ ...base, ...o })).toThrow(InvalidOptionError);
      expect(() => new DriftMonitor({ ...base, ...o })).toThrow(msg);
    }
  });

  it('serialises a drift event as one JSON line with a fixed key order', () => {
    const { m, next } = primed({ forMs: 0 });
    const [e] = m.observe(events(constant(20, -13), next));
    const line = serializeDriftEvent(e!);
    expect(line).not.toContain('\n');
    expect(Object.keys(JSON.parse(line) as object)).toEqual([
      'kind',
      'id',
      'timestamp',
      'startedAt',
      'topic',
      'partition',
      'offset',
      'eventIndex',
      'score',
      'peakScore',
      'level',
      'windowMeanLogLikelihood',
      'referenceLogLikelihood',
      'referenceStd',
      'reason',
      'durationMs',
    ]);
  });
});
