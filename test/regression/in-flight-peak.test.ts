/**
 * Regression (issue 12): the live-Prometheus test read `max_over_time(flowsentinel_records_in_flight[5m])`
 * as 0 on an idle machine. The gauge was right, but the job drains each fetched batch within milliseconds
 * and then waits on the next fetch, so a 1 s scrape mostly lands on 0. `flowsentinel_records_in_flight_peak`
 * keeps the high watermark, so a scrape after the burst still sees it. And the in-flight gauge stopped
 * following the gate when the source completed, so it stayed at the last batch's size after a replay.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { runDetectorJob } from '../../src/job/run.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import { MemorySink } from '../../src/streams/sinks.js';
import { iterableSource } from '../../src/streams/source.js';
import { silentLogger } from '../helpers/detector-data.js';
import { FIXTURE_FIELDS, testBackend } from '../helpers/detector-fixtures.js';

describe('flowsentinel_records_in_flight_peak', () => {
  it('holds the highest in-flight count after the run has drained to 0', async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        backend: testBackend(),
        features: { fields: [...FIXTURE_FIELDS] },
        model: { type: 'realnvp', layers: 2, hidden: 8, seed: 1 },
        training: { stepsPerBatch: 1, batchSize: 64 },
        warmup: { events: 100 },
        batching: { maxSize: 50, highWaterMark: 120 },
        metrics: { enabled: false },
      },
    });
    const records = [...generateRecords({ seed: 3, count: 400, fields: FIXTURE_FIELDS, anomalyRate: 0 })];
    const result = await runDetectorJob({
      config,
      logger: silentLogger(),
      source: iterableSource(() => records),
      sinks: { anomalies: new MemorySink(), deadLetters: new MemorySink() },
      serveMetrics: false,
      maxWaitMs: Number.POSITIVE_INFINITY,
    });
    const text = await result.registry.metrics();
    expect(text).toMatch(/^flowsentinel_records_in_flight 0$/m);
    const peak = Number(/^flowsentinel_records_in_flight_peak (\S+)$/m.exec(text)?.[1]);
    expect(peak).toBe(result.summary.maxInFlight);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(120);
    result.parts.dispose();
  });
});
