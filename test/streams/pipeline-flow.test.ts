import { setImmediate as tick } from 'node:timers/promises';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AckTracker } from '../../src/streams/acks.js';
import { generatorSource, MALFORMED_HEADER } from '../../src/streams/generator-source.js';
import { runPipeline } from '../../src/streams/pipeline.js';
import { iterableSource, type RecordSource } from '../../src/streams/source.js';
import { baseOptions, FIELDS, fixture, ThresholdDetector } from './pipeline-fixture.js';

describe('runPipeline flow control', () => {
  it('keeps a slow detector from letting a fast endless source run ahead, and drains on stop', async () => {
    const hwm = 40;
    let emitted = 0;
    let settled = 0;
    let worstLead = 0;
    const counted: RecordSource = {
      records: (gate) =>
        generatorSource({
          seed: 4,
          count: Number.POSITIVE_INFINITY,
          fields: FIELDS,
          malformedRate: 0.1,
          oversizeBytes: 3000,
        })
          .records(gate)
          .pipe(tap(() => emitted++)),
    };
    const detector = new ThresholdDetector(async () => {
      await tick(); // slower than the synchronous source
      worstLead = Math.max(worstLead, emitted - settled);
    });
    const acks = new AckTracker();
    const handle = runPipeline(
      baseOptions({
        source: counted,
        detector,
        acks,
        highWaterMark: hwm,
        batch: { maxSize: 10, maxWaitMs: 1000 },
        onBatch: (info) => {
          settled += info.events.length;
          if (detector.batches === 30) void handle.stop();
        },
        onDeadLetter: () => {
          settled++;
        },
      }),
    );
    const summary = await handle.done;
    expect(worstLead).toBeLessThanOrEqual(hwm);
    expect(summary.maxInFlight).toBeLessThanOrEqual(hwm);
    expect(summary.batches).toBeGreaterThanOrEqual(30);
    expect(summary.in).toBe(emitted);
    expect(summary.in).toBe(summary.scored + summary.warming + summary.deadLettered);
    expect(acks.pending).toBe(0);
  });

  it('flushes a partial batch after maxWaitMs while the source is idle', async () => {
    const three = fixture.filter((r) => r.headers[MALFORMED_HEADER] === undefined).slice(0, 3);
    const idle: RecordSource = iterableSource((signal) =>
      (async function* () {
        yield* three;
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      })(),
    );
    const sizes: number[] = [];
    let firstBatch: () => void = () => undefined;
    const gotBatch = new Promise<void>((resolve) => {
      firstBatch = resolve;
    });
    const handle = runPipeline(
      baseOptions({
        source: idle,
        batch: { maxSize: 100, maxWaitMs: 5 },
        onBatch: (info) => {
          sizes.push(info.events.length);
          firstBatch();
        },
      }),
    );
    await gotBatch;
    const summary = await handle.stop();
    expect(sizes).toEqual([3]);
    expect(summary.in).toBe(3);
  });
});
