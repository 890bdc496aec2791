/**
 * `emitBatch`, the Kafka source's per-record loop, with a real `CreditGate` and a scripted kafkajs
 * payload (no broker): which records it emits, which offsets it resolves (once per run of records, the
 * last one handed on), what it notes as emitted (re-deliveries after a rejoin are skipped), when it
 * pauses fetching, and the lag it reports.
 */
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { tpKey } from '../../src/kafka/assignment.js';
import { type BatchTarget, emitBatch } from '../../src/kafka/emit-batch.js';
import { CreditGate } from '../../src/streams/backpressure.js';
import type { SourceRecord } from '../../src/streams/types.js';

const KEY = tpKey('in', 2);

const message = (offset: number): KafkaMessage =>
  ({
    offset: String(offset),
    timestamp: String(1_700_000_000_000 + offset),
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(`{"a":${offset}}`),
    headers: {},
    attributes: 0,
    size: 0,
  }) as unknown as KafkaMessage;

interface Run {
  readonly emitted: string[];
  readonly resolved: string[];
  readonly lastEmitted: Map<string, bigint>;
  readonly lags: number[];
  /** `observer.emitted` calls: records per run, each with how many records were emitted at the call. */
  readonly runs: { records: number; atEmitted: number }[];
  readonly fetchPauses: number;
}

/** Runs one batch of `offsets` (high watermark `hw`) through `emitBatch`. */
async function run(
  offsets: number[],
  o: {
    hw?: number;
    credits?: CreditGate;
    pauseAfterMs?: number;
    lastEmitted?: Map<string, bigint>;
    onEmit?: (record: SourceRecord, gate: CreditGate) => void;
    detachAfter?: number;
  } = {},
): Promise<Run> {
  const gate = o.credits ?? new CreditGate(1000);
  const emitted: string[] = [];
  const resolved: string[] = [];
  const lags: number[] = [];
  const runs: Run['runs'] = [];
  const lastEmitted = o.lastEmitted ?? new Map<string, bigint>();
  let fetchPauses = 0;
  const target: BatchTarget = {
    credits: gate,
    settings: {
      pauseAfterMs: o.pauseAfterMs ?? 0,
      heartbeatIntervalMs: 3000,
      scheduler: undefined,
      observer: {
        fetched: ({ lag }) => lags.push(lag),
        emitted: ({ topic, partition, records }) => {
          expect({ topic, partition }).toEqual({ topic: 'in', partition: 2 });
          runs.push({ records, atEmitted: emitted.length });
        },
      },
    },
    signal: new AbortController().signal,
    lastEmitted,
    detached: () => o.detachAfter !== undefined && emitted.length >= o.detachAfter,
    emit: (record) => {
      emitted.push(record.offset);
      o.onEmit?.(record, gate);
    },
    pauseFetching: () => {
      fetchPauses++;
    },
  };
  const payload = {
    batch: {
      topic: 'in',
      partition: 2,
      highWatermark: String(o.hw ?? 110),
      messages: offsets.map(message),
    },
    resolveOffset: (offset: string) => resolved.push(offset),
    heartbeat: () => Promise.resolve(),
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
  await emitBatch(payload, target);
  return { emitted, resolved, lastEmitted, lags, runs, fetchPauses };
}

describe('emitBatch (the Kafka source per record)', () => {
  it('emits every record in order as a plain-byte record and resolves the last offset once', async () => {
    const records: SourceRecord[] = [];
    const r = await run([100, 101, 102, 103], { onEmit: (rec) => records.push(rec) });
    expect(r.emitted).toEqual(['100', '101', '102', '103']);
    expect(r.resolved).toEqual(['103']);
    expect(r.lastEmitted.get(KEY)).toBe(103n);
    expect(r.lags).toEqual([110 - 104]);
    expect(r.runs).toEqual([{ records: 4, atEmitted: 4 }]);
    expect(records[1]).toEqual({
      topic: 'in',
      partition: 2,
      offset: '101',
      timestamp: 1_700_000_000_101,
      key: new TextEncoder().encode('k101'),
      headers: {},
      value: new TextEncoder().encode('{"a":101}'),
    });
  });

  it('skips records re-delivered after a rejoin (up to the last emitted offset) but resolves them', async () => {
    const lastEmitted = new Map([[KEY, 101n]]);
    const r = await run([100, 101, 102, 103], { lastEmitted });
    expect(r.emitted).toEqual(['102', '103']);
    expect(r.resolved).toEqual(['103']);
    expect(r.lastEmitted.get(KEY)).toBe(103n);
    expect(r.runs).toEqual([{ records: 2, atEmitted: 2 }]);
  });

  it('a batch of re-deliveries only emits nothing and keeps the last emitted offset', async () => {
    const lastEmitted = new Map([[KEY, 105n]]);
    const r = await run([100, 101], { lastEmitted });
    expect(r.emitted).toEqual([]);
    expect(r.resolved).toEqual(['101']);
    expect(r.lastEmitted.get(KEY)).toBe(105n);
    expect(r.lags).toEqual([110 - 102]);
    expect(r.runs).toEqual([]);
  });

  it('out of credit past pauseAfterMs: resolves what it handed on, pauses fetching, reports lag from the next record', async () => {
    const r = await run([100, 101, 102, 103], { credits: new CreditGate(2), pauseAfterMs: 0 });
    expect(r.emitted).toEqual(['100', '101']);
    expect(r.resolved).toEqual(['101']);
    expect(r.fetchPauses).toBe(1);
    expect(r.lastEmitted.get(KEY)).toBe(101n);
    expect(r.lags).toEqual([110 - 102]);
    expect(r.runs).toEqual([{ records: 2, atEmitted: 2 }]);
  });

  it('waits in the batch while the pipeline gives credits back, resolving before each wait', async () => {
    const r = await run([100, 101, 102, 103, 104], {
      credits: new CreditGate(2),
      pauseAfterMs: 60_000,
      // The pipeline acknowledges the two in flight once the source waits for credit.
      onEmit: (_rec, gate) => {
        if (gate.available === 0) queueMicrotask(() => gate.release(2));
      },
    });
    expect(r.emitted).toEqual(['100', '101', '102', '103', '104']);
    expect(r.resolved).toEqual(['101', '103', '104']);
    // Told before each wait, not at the end of the batch: a metrics scrape during a wait sees them.
    expect(r.runs).toEqual([
      { records: 2, atEmitted: 2 },
      { records: 2, atEmitted: 4 },
      { records: 1, atEmitted: 5 },
    ]);
    expect(r.fetchPauses).toBe(0);
    expect(r.lastEmitted.get(KEY)).toBe(104n);
  });

  it('stops at a detach and notes only what it emitted', async () => {
    const r = await run([100, 101, 102, 103], { detachAfter: 2 });
    expect(r.emitted).toEqual(['100', '101']);
    expect(r.resolved).toEqual(['101']);
    expect(r.lastEmitted.get(KEY)).toBe(101n);
    expect(r.lags).toEqual([110 - 102]);
  });
});
