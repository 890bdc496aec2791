import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDetector, type DetectorParts } from '../../src/detector/factory.js';
import { LearnBudget } from '../../src/detector/learn-budget.js';
import { InvalidOptionError } from '../../src/errors.js';
import { EventStream, smallDetectorConfig } from '../helpers/detector-data.js';

/** Admissions of `batches` batches of `n` events, as a 0/1 string. */
function pattern(budget: LearnBudget, batches: number, n = 100): string {
  let out = '';
  for (let i = 0; i < batches; i++) out += budget.admit(n) ? '1' : '0';
  return out;
}

describe('LearnBudget: fixed share', () => {
  it('admits every batch at share 1', () => {
    const b = new LearnBudget({ maxFraction: 1, minFraction: 0.1, adaptive: false });
    expect(pattern(b, 20)).toBe('1'.repeat(20));
    expect(b.learnedRatio).toBe(1);
    expect([b.offered, b.learned]).toEqual([2000, 2000]);
  });

  it('spreads a share of 1/4 evenly and deterministically', () => {
    const make = () => new LearnBudget({ maxFraction: 0.25, minFraction: 0.1, adaptive: false });
    const b = make();
    expect(pattern(b, 12)).toBe('000100010001');
    expect(b.learned / b.offered).toBe(0.25);
    expect(pattern(make(), 400)).toBe(pattern(make(), 400));
  });

  it('counts forced (warm-up) batches as learned', () => {
    const b = new LearnBudget({ maxFraction: 0.5, minFraction: 0.1, adaptive: false });
    expect([b.admit(10, true), b.admit(10, true), b.admit(10)]).toEqual([true, true, false]);
    expect(b.learned).toBe(20);
  });

  it('ignores the backlog when not adaptive', () => {
    const b = new LearnBudget({ maxFraction: 1, minFraction: 0.1, adaptive: false });
    b.observeBacklog(10_000, 256);
    expect(b.fraction).toBe(1);
  });

  it('rejects shares outside (0, 1] and a floor above the cap, saying which', () => {
    expect(() => new LearnBudget({ maxFraction: 0, minFraction: 0.1, adaptive: true })).toThrow(
      /maxFraction must be in \(0, 1\], got 0/,
    );
    expect(() => new LearnBudget({ maxFraction: 0.5, minFraction: 0.6, adaptive: true })).toThrow(
      InvalidOptionError,
    );
    expect(() => new LearnBudget({ maxFraction: 1, minFraction: 0.1, adaptive: true, window: 0 })).toThrow(
      /window/,
    );
  });
});

describe('LearnBudget: adaptive share (AIMD on the backlog)', () => {
  it('halves while more than one batch waits, down to the floor, then grows by 1/16 per batch', () => {
    const b = new LearnBudget({ maxFraction: 1, minFraction: 0.1, adaptive: true });
    const shares: number[] = [];
    for (let i = 0; i < 5; i++) {
      b.observeBacklog(1000, 256);
      shares.push(b.fraction);
    }
    expect(shares).toEqual([0.5, 0.25, 0.125, 0.1, 0.1]);
    b.observeBacklog(256, 256); // exactly one batch waiting: keeping up
    expect(b.fraction).toBeCloseTo(0.1 + 1 / 16, 12);
    for (let i = 0; i < 20; i++) b.observeBacklog(0, 256);
    expect(b.fraction).toBe(1);
  });

  /**
   * A live stream in virtual time: events arrive at `rate`/s, scoring costs `scoreMs` per event and a
   * training step `stepMs` per batch. Returns the largest backlog (events read but not yet processed).
   */
  function simulate(adaptive: boolean, seconds: number): { maxBacklog: number; ratio: number } {
    const rate = 4000;
    const scoreMs = 0.05;
    const stepMs = 120;
    const maxSize = 256;
    const budget = new LearnBudget({ maxFraction: 1, minFraction: 0.05, adaptive });
    let now = 0; // virtual ms
    let processed = 0;
    let maxBacklog = 0;
    while (now < seconds * 1000) {
      const arrived = Math.floor((now * rate) / 1000);
      const backlog = arrived - processed;
      maxBacklog = Math.max(maxBacklog, backlog);
      if (backlog === 0) {
        now += 1;
        continue;
      }
      const n = Math.min(maxSize, backlog);
      budget.observeBacklog(backlog - n, maxSize);
      now += n * scoreMs + (budget.admit(n) ? stepMs : 0);
      processed += n;
    }
    return { maxBacklog, ratio: budget.learned / budget.offered };
  }

  it('keeps the backlog bounded when training cannot keep up, learning from a fraction of events', () => {
    // Training sustains 256 events per ~133 ms ≈ 1.9k events/s, half the offered 4k/s.
    const without = simulate(false, 60);
    const short = simulate(true, 10);
    const long = simulate(true, 60);
    expect(without.maxBacklog).toBeGreaterThan(100_000); // grows with time
    expect(long.maxBacklog).toBeLessThan(2000);
    expect(long.maxBacklog).toBe(short.maxBacklog); // bounded: a longer run does not raise it
    expect(long.ratio).toBeGreaterThan(0.2);
    expect(long.ratio).toBeLessThan(0.6);
  });
});

describe('OnlineDetector with a learning budget', () => {
  const open: DetectorParts[] = [];
  afterEach(() => {
    for (const p of open.splice(0)) p.dispose();
    vi.restoreAllMocks();
  });

  function build(maxLearnFraction: number): DetectorParts {
    const parts = createDetector(
      smallDetectorConfig({ training: { stepsPerBatch: 1, maxLearnFraction }, warmup: { events: 100 } }),
    );
    open.push(parts);
    return parts;
  }

  it('always trains in warm-up, then only the admitted share of batches; every event is scored', async () => {
    const parts = build(0.25);
    const stream = new EventStream(5);
    const steps = vi.spyOn(parts.trainer, 'stepRows');
    let scored = 0;
    let anomalies = 0;
    for (let b = 0; b < 10; b++) {
      const out = await parts.detector.process(stream.batch(50));
      scored += out.length;
      anomalies += out.filter((s) => s.isAnomaly).length;
    }
    // Batches 1–2 are warm-up (100 events); of the 8 after, every 4th trains.
    expect(steps).toHaveBeenCalledTimes(4);
    expect(scored).toBe(500);
    // Offered: every event but the anomalies, which are kept out of training anyway.
    expect(parts.budget.offered).toBe(500 - anomalies);
    expect(parts.budget.learned).toBeGreaterThanOrEqual(200 - anomalies);
    expect(parts.budget.learned).toBeLessThanOrEqual(200);
    // Rows of skipped batches still reach the replay reservoir.
    expect(parts.reservoir?.size).toBe(500 - anomalies);
  });

  it('trains every batch at share 1 (the default)', async () => {
    const full = build(1);
    const steps = vi.spyOn(full.trainer, 'stepRows');
    const stream = new EventStream(5);
    for (let b = 0; b < 6; b++) await full.detector.process(stream.batch(50));
    expect(steps).toHaveBeenCalledTimes(6);
    expect(full.budget.learnedRatio).toBe(1);
  });
});
