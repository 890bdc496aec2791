import { map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AckTracker } from '../../../src/streams/acks.js';
import { CreditGate } from '../../../src/streams/backpressure.js';
import {
  acknowledge,
  type ObservedBatch,
  type OutputSink,
  registerArrivals,
  writeOutputs,
} from '../../../src/streams/operators/index.js';
import type { ScoredEvent, SourceRecord } from '../../../src/streams/types.js';
import { driftEvent, observedBatch, pipelineErrorIn, ref, testScheduler } from './helpers.js';

const record = (offset: number): SourceRecord => ({
  ...ref(offset),
  timestamp: 0,
  key: null,
  headers: {},
  value: null,
});
const refsOfBatch = (batch: ObservedBatch) => batch.events.map((e) => e.ref);

/** Five records read (credits taken) and registered, as the pipeline does on arrival. */
function inFlight(): { acks: AckTracker; gate: CreditGate } {
  const acks = new AckTracker();
  const gate = new CreditGate(10);
  for (let o = 0; o < 5; o++) {
    gate.tryAcquire();
    acks.register(ref(o));
  }
  return { acks, gate };
}

const sink = <T>(answer: () => Observable<unknown>): OutputSink<T> => ({ write: () => answer() });
const committed = (acks: AckTracker): string => acks.committable()[0]?.offset ?? '-';

describe('acknowledge', () => {
  it('acknowledges a batch and releases its credits only after every sink write of it resolved', () => {
    const a = observedBatch([0, 1, 2], [1], { drift: [driftEvent(ref(1))] });
    const b = observedBatch([3, 4]);
    const { acks, gate } = inFlight();
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const sinks = {
        anomalies: sink<ScoredEvent>(() => cold('-|')),
        scores: sink<ScoredEvent>(() => cold('----|')),
        drift: sink<never>(() => cold('--|')),
      };
      const state: Array<[number, string, number]> = [];
      for (const frame of [1, 3, 5, 7, 9]) {
        ts.schedule(() => state.push([frame, committed(acks), gate.inFlight]), frame);
      }
      const acked = cold('ab|', { a, b }).pipe(
        writeOutputs(sinks),
        acknowledge(acks, gate, refsOfBatch),
        map(() => `${committed(acks)}/${gate.inFlight}`),
      );
      // a's fast writes (anomalies at 1, drift at 2) acknowledge nothing; its scores write at 4 does.
      // b (scores only) is written from 4 to 8.
      expectObservable(acked).toBe('----x---(y|)', { x: '2/2', y: '4/0' });
      flush();
      expect(state).toEqual([
        [1, '-', 5],
        [3, '-', 5],
        [5, '2', 2],
        [7, '2', 2],
        [9, '4', 0],
      ]);
    });
    expect(acks.pending).toBe(0);
  });

  it('acknowledges nothing of a batch whose write fails', () => {
    const a = observedBatch([0, 1, 2], [1]);
    const { acks, gate } = inFlight();
    testScheduler().run(({ cold, expectObservable }) => {
      const sinks = {
        anomalies: sink<ScoredEvent>(() => cold('-|')),
        scores: sink<ScoredEvent>(() => cold('--#', undefined, new Error('broker down'))),
      };
      const acked = cold('a|', { a }).pipe(writeOutputs(sinks), acknowledge(acks, gate, refsOfBatch));
      expectObservable(acked).toBe('--#', undefined, pipelineErrorIn('scores-sink'));
    });
    expect(acks.pending).toBe(5);
    expect(gate.inFlight).toBe(5);
    expect(acks.committable()).toEqual([]);
  });

  it('passes every item on, in order, after acknowledging exactly its records', () => {
    const { acks, gate } = inFlight();
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      // Acks may come in any order; the commit position only moves over a contiguous prefix.
      const batches = { x: observedBatch([3, 4]), y: observedBatch([0, 1, 2]) };
      const acked = cold('x-y|', batches).pipe(
        acknowledge(acks, gate, refsOfBatch),
        map(() => `${committed(acks)}/${gate.inFlight}`),
      );
      expectObservable(acked).toBe('x-y|', { x: '-/3', y: '4/0' });
    });
    expect(acks.pending).toBe(0);
  });
});

describe('registerArrivals', () => {
  it('registers each record in arrival order and counts it', () => {
    const acks = new AckTracker();
    const arrived: string[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const records = { a: record(0), b: record(1) };
      const registered = cold('a-b|', records).pipe(
        registerArrivals(acks, undefined, (r) => arrived.push(r.offset)),
      );
      expectObservable(registered).toBe('a-b|', records);
    });
    expect(arrived).toEqual(['0', '1']);
    expect(acks.pending).toBe(2);
  });

  it('fails in stage acks when an offset goes backwards, before counting the record', () => {
    const acks = new AckTracker();
    const arrived: string[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const records = { a: record(5), b: record(3) };
      const registered = cold('a-b|', records).pipe(
        registerArrivals(acks, undefined, (r) => arrived.push(r.offset)),
      );
      expectObservable(registered).toBe('a-#', records, pipelineErrorIn('acks'));
    });
    expect(arrived).toEqual(['5']);
  });
});
