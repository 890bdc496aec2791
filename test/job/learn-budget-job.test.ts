import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/schema.js';
import { runDetectorJob } from '../../src/job/run.js';
import { createLogger } from '../../src/logging.js';
import { generatorSource } from '../../src/streams/generator-source.js';
import { MemorySink } from '../../src/streams/sinks.js';
import type { DeadLetter, ScoredEvent } from '../../src/streams/types.js';
import { smallDetectorConfig } from '../helpers/detector-data.js';

const FIELDS = ['a', 'b', 'c'];

/**
 * A pull source fills the credit gate at once: for the learning budget that is a backlog of
 * `highWaterMark − maxSize` records behind every batch, what a live source shows when it falls behind.
 */
async function run(config: AppConfig, liveSource: boolean) {
  const scores = new MemorySink<ScoredEvent>();
  const result = await runDetectorJob({
    config,
    logger: createLogger({ level: 'silent' }),
    source: generatorSource({ seed: 9, count: 3000, fields: FIELDS, anomalyRate: 0, drift: null }),
    sinks: { anomalies: new MemorySink<ScoredEvent>(), scores, deadLetters: new MemorySink<DeadLetter>() },
    serveMetrics: false,
    maxWaitMs: Number.POSITIVE_INFINITY,
    liveSource,
  });
  const gauge = await result.registry.getSingleMetric('flowsentinel_training_learned_ratio')?.get();
  result.parts.dispose();
  return { scored: scores.items.length, budget: result.parts.budget, gauge: gauge?.values[0]?.value };
}

describe('runDetectorJob: learning budget', () => {
  const configWith = (maxLearnFraction: number): AppConfig =>
    smallDetectorConfig({
      features: { fields: FIELDS },
      training: { stepsPerBatch: 1, maxLearnFraction },
      warmup: { events: 200 },
      batching: { maxSize: 100, highWaterMark: 1000, maxWaitMs: 100 },
    });
  const config = configWith(1);

  it('sheds learning under a backlog for a live source, still scoring every event', async () => {
    const live = await run(config, true);
    expect(live.scored).toBe(3000);
    expect(live.budget.learned / live.budget.offered).toBeLessThan(0.3);
    expect(live.gauge).toBeCloseTo(live.budget.learnedRatio, 12);
    expect(live.gauge).toBeLessThan(1);
  });

  it('learns from every batch for a replay at max speed (not live), deterministically', async () => {
    const replay = await run(config, false);
    expect(replay.scored).toBe(3000);
    expect(replay.budget.learned).toBe(replay.budget.offered);
    expect(replay.gauge).toBe(1);
  });

  it('applies a fixed maxLearnFraction to any source', async () => {
    const fixed = await run(configWith(0.5), false);
    expect(fixed.budget.fraction).toBe(0.5);
    expect(fixed.budget.learned / fixed.budget.offered).toBeLessThan(0.6);
  });
});
