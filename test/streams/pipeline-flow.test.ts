import { setImmediate as tick } from 'node:timers/promises';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AckTracker } from '../../src/streams/acks.js';
import { generatorSource, MALFORMED_HEADER } from '../../src/streams/generator-source.js';
import { runPipeline } from '../../src/streams/pipeline.js';
import { MemorySink } from '../../src/streams/sinks.js';
import { iterableSource, type RecordSource } from '../../src/streams/source.js';
import type { RecordRef, ScoredEvent, Sink } from '../../src/streams/types.js';
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

/**
 * For the ordering tests: which of `valid`'s batches a batch is (by its first record), and whether every
 * record of `refs` is committable, i.e. acknowledged with everything read before it.
 */
function orderingProbe(valid: readonly { partition: number; offset: string }[]) {
  const acks = new AckTracker();
  const batchNo = (refs: readonly RecordRef[]) =>
    valid.findIndex((r) => r.partition === refs[0]!.partition && r.offset === refs[0]!.offset);
  const acked = (refs: readonly RecordRef[]) =>
    refs.every((ref) => {
      const done = acks.committable().find((c) => c.partition === ref.partition);
      return done !== undefined && BigInt(done.offset) >= BigInt(ref.offset);
    });
  return { acks, batchNo, acked };
}

describe('runPipeline ordering', () => {
  it('scores, writes, acknowledges and reports a batch before the next one reaches the detector', async () => {
    const valid = fixture.filter((r) => r.headers[MALFORMED_HEADER] === undefined).slice(0, 9);
    const log: string[] = [];
    const { acks, batchNo, acked } = orderingProbe(valid);
    const detector = new ThresholdDetector();
    const scores: Sink<ScoredEvent> = {
      async write(items) {
        const n = batchNo(items.map((i) => i.ref));
        log.push(`write ${n}`);
        await tick();
        log.push(`written ${n} acked=${acked(items.map((i) => i.ref))}`);
      },
      close: () => Promise.resolve(),
    };
    const summary = await runPipeline(
      baseOptions({
        source: iterableSource(() => valid),
        acks,
        batch: { maxSize: 3, maxWaitMs: Number.POSITIVE_INFINITY },
        detector: {
          process: (batch) => {
            log.push(`score ${batchNo(batch.map((e) => e.ref))}`);
            return detector.process(batch);
          },
        },
        sinks: { anomalies: new MemorySink(), scores, deadLetters: new MemorySink() },
        onBatch: async (info) => {
          const refs = info.events.map((e) => e.ref);
          log.push(`report ${batchNo(refs)} acked=${acked(refs)}`);
          await tick();
          log.push(`reported ${batchNo(refs)}`);
        },
      }),
    ).done;
    expect(log).toEqual(
      [0, 3, 6].flatMap((n) => [
        `score ${n}`,
        `write ${n}`,
        `written ${n} acked=false`,
        `report ${n} acked=true`,
        `reported ${n}`,
      ]),
    );
    expect(summary.batches).toBe(3);
    expect(acks.pending).toBe(0);
  });

  it('with writesInFlight 1 scores the next batch during the writes, but writes, acknowledges and reports in order', async () => {
    const valid = fixture.filter((r) => r.headers[MALFORMED_HEADER] === undefined).slice(0, 12);
    const log: string[] = [];
    const { acks, batchNo, acked } = orderingProbe(valid);
    const detector = new ThresholdDetector();
    const scores: Sink<ScoredEvent> = {
      async write(items) {
        const n = batchNo(items.map((i) => i.ref));
        log.push(`write ${n}`);
        for (let i = 0; i < 5; i++) await tick(); // the broker is slower than the detector
        log.push(`written ${n} acked=${acked(items.map((i) => i.ref))}`);
      },
      close: () => Promise.resolve(),
    };
    const summary = await runPipeline(
      baseOptions({
        source: iterableSource(() => valid),
        acks,
        batch: { maxSize: 3, maxWaitMs: Number.POSITIVE_INFINITY },
        writesInFlight: 1,
        detector: {
          process: async (batch) => {
            const n = batchNo(batch.map((e) => e.ref));
            log.push(`score ${n}`);
            await tick();
            log.push(`scored ${n}`);
            return detector.process(batch);
          },
        },
        sinks: { anomalies: new MemorySink(), scores, deadLetters: new MemorySink() },
        onBatch: (info) => {
          const refs = info.events.map((e) => e.ref);
          log.push(`report ${batchNo(refs)} acked=${acked(refs)}`);
        },
      }),
    ).done;
    const at = (line: string) => log.indexOf(line);
    expect(at('score 3')).toBeLessThan(at('written 0 acked=false')); // the overlap
    expect(log.filter((l) => l.startsWith('write '))).toEqual(['write 0', 'write 3', 'write 6', 'write 9']);
    expect(log.filter((l) => l.startsWith('report'))).toEqual(
      [0, 3, 6, 9].map((n) => `report ${n} acked=true`),
    );
    for (const n of [0, 3, 6, 9]) {
      expect(log).toContain(`written ${n} acked=false`);
      expect(at(`write ${n}`)).toBeGreaterThan(at(`scored ${n}`));
      if (n > 0) expect(at(`write ${n}`)).toBeGreaterThan(at(`written ${n - 3} acked=false`));
      // Never reported while the detector is busy.
      expect(log.slice(at(`score ${n}`), at(`scored ${n}`)).some((l) => l.startsWith('report'))).toBe(false);
      // At most one batch scored ahead of the oldest unreported one.
      if (n >= 6) expect(at(`score ${n}`)).toBeGreaterThan(at(`report ${n - 6} acked=true`));
    }
    expect(summary.batches).toBe(4);
    expect(acks.pending).toBe(0);
  });
});
