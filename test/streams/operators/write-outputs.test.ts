import { lastValueFrom, type Observable, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { DriftEvent } from '../../../src/detector/drift.js';
import { type OutputSink, writeDeadLetters, writeOutputs } from '../../../src/streams/operators/index.js';
import { MemorySink, SinkError } from '../../../src/streams/sinks.js';
import type { DeadLetter, ScoredEvent } from '../../../src/streams/types.js';
import { driftEvent, observedBatch, pipelineErrorIn, ref, testScheduler } from './helpers.js';

/** A sink whose writes take the time of `answer` (a cold marble) and are recorded with their start frame. */
function timedSink<T>(
  answer: () => Observable<unknown>,
  now: () => number,
): OutputSink<T> & { writes: Array<[number, string]> } {
  const writes: Array<[number, string]> = [];
  const offsetOf = (item: unknown): string => (item as { ref: { offset: string } }).ref.offset;
  return {
    writes,
    write(items) {
      writes.push([now(), items.map(offsetOf).join(',')]);
      return answer();
    },
  };
}

const a = observedBatch([0, 1, 2], [1], { drift: [driftEvent(ref(1))] });
const b = observedBatch([3, 4], []);

describe('writeOutputs', () => {
  it('writes alerts, scores and drift events at once and emits the batch when the slowest write resolved', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const now = () => ts.now();
      const anomalies = timedSink<ScoredEvent>(() => cold('-|'), now);
      const scores = timedSink<ScoredEvent>(() => cold('----|'), now);
      const drift = timedSink<DriftEvent>(() => cold('--(x|)'), now);
      // b reaches the operator at 1 while a's writes run; its writes start when a is through, at 4.
      expectObservable(cold('ab|', { a, b }).pipe(writeOutputs({ anomalies, scores, drift }))).toBe(
        '----a---(b|)',
        { a, b },
      );
      flush();
      expect(anomalies.writes).toEqual([[0, '1']]);
      expect(scores.writes).toEqual([
        [0, '0,1,2'],
        [4, '3,4'],
      ]);
      // No alerts and no drift events in b: no empty writes.
      expect(drift.writes).toEqual([[0, '1']]);
    });
  });

  it('writes only the alerts, not suppressed anomalies, and needs no optional sinks', () => {
    const suppressed = observedBatch([0, 1, 2], [1, 2], { alerted: [2] });
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const anomalies = timedSink<ScoredEvent>(
        () => cold('--|'),
        () => ts.now(),
      );
      // b has nothing to write for these sinks: it passes at once.
      expectObservable(cold('a--b-|', { a: suppressed, b }).pipe(writeOutputs({ anomalies }))).toBe(
        '--ab-|',
        { a: suppressed, b },
      );
      flush();
      expect(anomalies.writes).toEqual([[0, '2']]);
    });
  });

  it('fails with the stage of the sink whose write fails, and does not emit the batch', () => {
    const full = new SinkError('disk full', { retriable: true });
    testScheduler().run(({ cold, expectObservable }) => {
      const ok = () => cold('-|');
      const broken = () => cold('--#', undefined, full);
      const now = () => 0;
      const cases = [
        ['anomalies-sink', { anomalies: timedSink(broken, now), scores: timedSink(ok, now) }],
        ['scores-sink', { anomalies: timedSink(ok, now), scores: timedSink(broken, now) }],
        ['drift-sink', { anomalies: timedSink(ok, now), drift: timedSink(broken, now) }],
      ] as const;
      for (const [stage, sinks] of cases) {
        expectObservable(cold('a|', { a }).pipe(writeOutputs(sinks))).toBe(
          '--#',
          undefined,
          pipelineErrorIn(stage, true),
        );
      }
      const throwing: OutputSink<ScoredEvent> = {
        write: () => {
          throw new TypeError('closed');
        },
      };
      expectObservable(cold('a|', { a }).pipe(writeOutputs({ anomalies: throwing }))).toBe(
        '#',
        undefined,
        pipelineErrorIn('anomalies-sink'),
      );
    });
  });

  it('works with promise-returning sinks', async () => {
    const anomalies = new MemorySink<ScoredEvent>();
    const scores = new MemorySink<ScoredEvent>();
    const out = await lastValueFrom(of(a, b).pipe(writeOutputs({ anomalies, scores })));
    expect(out).toBe(b);
    expect(anomalies.items).toEqual([a.results[1]]);
    expect(scores.items).toEqual([...a.results, ...b.results]);
  });
});

describe('writeDeadLetters', () => {
  const dead = (offset: number): DeadLetter => ({
    record: { ...ref(offset), timestamp: 0, key: null, headers: {}, value: null },
    reason: 'empty_value',
    detail: 'record value is empty',
  });
  const offsetOfDead = (d: unknown) => (d as DeadLetter).record.offset;

  it('writes each dead letter on its own, in order, and emits it once written', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const starts: Array<[number, string]> = [];
      const sink: OutputSink<DeadLetter> = {
        write(items) {
          starts.push([ts.now(), items.map(offsetOfDead).join(',')]);
          return cold('--|');
        },
      };
      const x = dead(0);
      const y = dead(1);
      expectObservable(cold('xy|', { x, y }).pipe(writeDeadLetters(sink))).toBe('--x-(y|)', { x, y });
      flush();
      expect(starts).toEqual([
        [0, '0'],
        [2, '1'],
      ]);
    });
  });

  it('fails in stage dead-letter-sink', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const sink: OutputSink<DeadLetter> = { write: () => cold('-#', undefined, new Error('disk full')) };
      expectObservable(cold('x|', { x: dead(0) }).pipe(writeDeadLetters(sink))).toBe(
        '-#',
        undefined,
        pipelineErrorIn('dead-letter-sink'),
      );
    });
  });
});
