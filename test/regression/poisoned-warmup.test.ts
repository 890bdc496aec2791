/**
 * Regression (issue 13, item 4): one finite but absurd value (3e38) during warm-up inflated that feature's
 * running variance so much that 25σ spikes afterwards were caught 1 time in 20 (20 in 20 without it). The
 * standardiser now starts from the median/MAD of its first rows and clips later updates, so a poisoned
 * warm-up leaves the spike recall unchanged, whether the poison lands in the robust start or after it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { createDetector, type DetectorParts } from '../../src/detector/factory.js';
import type { ScoredEvent } from '../../src/streams/types.js';
import { EventStream, normalRow, outlierRow, smallDetectorConfig } from '../helpers/detector-data.js';

const WARMUP = 400;
const BATCH = 50;
const SPIKES = 20;
/** A 25σ spike in feature 0 only. */
const SPIKE_SIGMAS = 25;

let parts: DetectorParts | undefined;
afterEach(() => {
  parts?.dispose();
  parts = undefined;
});

interface Run {
  readonly caught: number;
  readonly std0: number;
  readonly falseAlarms: number;
}

/** Warm-up (with the poison at warm-up index `poisonAt`, if any), then 20 spikes among clean events. */
async function run(poisonAt: number | undefined): Promise<Run> {
  parts = createDetector(smallDetectorConfig({ warmup: { events: WARMUP } }));
  const stream = new EventStream(11);
  const rows = createRng(12);
  for (let start = 0; start < WARMUP; start += BATCH) {
    const replace = new Map<number, number[]>();
    if (poisonAt !== undefined && poisonAt >= start && poisonAt < start + BATCH) {
      const row = normalRow(rows);
      row[0] = 3e38;
      replace.set(poisonAt - start, row);
    }
    await parts.detector.process(stream.batch(BATCH, replace));
  }
  const std0 = parts.standardiser.std()[0]!;
  // Let the threshold fill (quantile 0.01 → 100 observations), then one spike per batch.
  for (let i = 0; i < 4; i++) await parts.detector.process(stream.batch(BATCH));
  let caught = 0;
  let falseAlarms = 0;
  const spikeRow = normalRow(rows);
  spikeRow[0] = outlierRow(SPIKE_SIGMAS)[0]!;
  for (let s = 0; s < SPIKES; s++) {
    const out: readonly ScoredEvent[] = await parts.detector.process(
      stream.batch(BATCH, new Map([[25, spikeRow]])),
    );
    expect(out[25]!.status).toBe('scored');
    if (out[25]!.isAnomaly) caught += 1;
    falseAlarms += out.filter((e, i) => i !== 25 && e.isAnomaly).length;
  }
  return { caught, std0, falseAlarms };
}

describe('a poisoned warm-up (issue 13)', () => {
  it('leaves the recall of 25σ spikes at 20/20 and σ near the clean one', async () => {
    const clean = await run(undefined);
    parts?.dispose();
    const inStart = await run(10);
    parts?.dispose();
    const afterStart = await run(200);
    parts?.dispose();
    parts = undefined;
    expect(clean.caught).toBe(SPIKES);
    expect(inStart.caught).toBe(SPIKES);
    expect(afterStart.caught).toBe(SPIKES);
    // The clean σ of feature 0 is 2 (test distribution); the poison moves it by a bounded factor.
    expect(clean.std0).toBeGreaterThan(1.6);
    expect(clean.std0).toBeLessThan(2.4);
    expect(inStart.std0 / clean.std0).toBeLessThan(1.1);
    expect(afterStart.std0 / clean.std0).toBeLessThan(1.3);
    expect(inStart.falseAlarms).toBeLessThan(60);
    expect(afterStart.falseAlarms).toBeLessThan(60);
  });
});
