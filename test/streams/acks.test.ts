import { map, mergeMap, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AckError, AckTracker, notAbove } from '../../src/streams/acks.js';
import type { RecordRef } from '../../src/streams/types.js';

const ref = (offset: number | string, partition = 0, topic = 't'): RecordRef => ({
  topic,
  partition,
  offset: String(offset),
});

function lastOffsets(tracker: AckTracker): Record<string, string> {
  return Object.fromEntries(tracker.committable().map((c) => [`${c.topic}/${c.partition}`, c.offset]));
}

describe('AckTracker', () => {
  it('advances only over a contiguous acknowledged prefix', () => {
    const acks = new AckTracker();
    for (const o of [0, 1, 2, 3]) acks.register(ref(o));
    expect(acks.committable()).toEqual([]);
    expect(acks.ack(ref(2))).toBe(true);
    expect(acks.committable()).toEqual([]); // 0 and 1 still pending
    acks.ack(ref(0));
    expect(acks.committable()).toEqual([{ topic: 't', partition: 0, offset: '0', commitOffset: '1' }]);
    acks.ack(ref(1));
    expect(lastOffsets(acks)).toEqual({ 't/0': '2' }); // jumps over the already-acked 2
    acks.ack(ref(3));
    expect(acks.committable()).toEqual([{ topic: 't', partition: 0, offset: '3', commitOffset: '4' }]);
    expect(acks.pending).toBe(0);
  });

  it('keeps partitions independent and sorted', () => {
    const acks = new AckTracker();
    acks.register(ref(10, 1));
    acks.register(ref(5, 0));
    acks.register(ref(0, 0, 'a'));
    acks.register(ref(11, 1));
    acks.ack(ref(11, 1));
    acks.ack(ref(5, 0));
    acks.ack(ref(0, 0, 'a'));
    expect(acks.committable().map((c) => `${c.topic}/${c.partition}@${c.offset}`)).toEqual([
      'a/0@0',
      't/0@5',
    ]);
    expect(acks.pending).toBe(1);
  });

  it('accepts offset gaps (compaction) but rejects non-increasing or malformed offsets', () => {
    const acks = new AckTracker();
    acks.register(ref(3));
    acks.register(ref(9));
    expect(() => acks.register(ref(9))).toThrow(AckError);
    expect(() => acks.register(ref(4))).toThrow(/must increase/);
    expect(() => acks.register(ref('-1', 1))).toThrow(AckError);
    expect(() => acks.register(ref('01', 1))).toThrow(AckError);
    acks.ack(ref(3));
    acks.ack(ref(9));
    expect(lastOffsets(acks)).toEqual({ 't/0': '9' });
  });

  it('orders canonical offsets by value without BigInt (notAbove), across lengths and equal lengths', () => {
    const pairs: [string, string][] = [
      ['0', '0'],
      ['9', '10'],
      ['10', '9'],
      ['99', '100'],
      ['123', '124'],
      ['124', '123'],
      ['9223372036854775807', '9223372036854775806'],
      ['9007199254740993', '9223372036854775807'],
    ];
    for (const [a, b] of pairs) expect(notAbove(a, b)).toBe(BigInt(a) <= BigInt(b));
    const acks = new AckTracker();
    acks.register(ref(99));
    expect(() => acks.register(ref(98))).toThrow(/arrived after offset 99/);
    acks.register(ref(100));
  });

  it('handles int64 offsets beyond 2^53', () => {
    const acks = new AckTracker();
    acks.register(ref('9007199254740993'));
    acks.register(ref('9223372036854775806'));
    acks.ack(ref('9007199254740993'));
    acks.ack(ref('9223372036854775806'));
    expect(acks.committable()[0]?.commitOffset).toBe('9223372036854775807');
  });

  it('ignores unknown, duplicate and released acknowledgements', () => {
    const acks = new AckTracker();
    acks.register(ref(0));
    acks.register(ref(1));
    expect(acks.ack(ref(7))).toBe(false);
    expect(acks.ack(ref(0, 3))).toBe(false);
    expect(acks.ack(ref(0))).toBe(true);
    expect(acks.ack(ref(0))).toBe(false);
    acks.releasePartition('t', 0);
    expect(acks.pending).toBe(0);
    expect(acks.ack(ref(1))).toBe(false);
    expect(acks.committable()).toEqual([]);
    // After a rebalance the partition may be re-read from an earlier offset.
    acks.register(ref(1));
    acks.ack(ref(1));
    expect(lastOffsets(acks)).toEqual({ 't/0': '1' });
  });

  it('stays correct across queue compaction', () => {
    const acks = new AckTracker();
    for (let o = 0; o < 5000; o++) acks.register(ref(o));
    for (let o = 0; o < 4000; o++) acks.ack(ref(o));
    expect(lastOffsets(acks)).toEqual({ 't/0': '3999' });
    for (let o = 4999; o >= 4001; o--) acks.ack(ref(o));
    expect(lastOffsets(acks)).toEqual({ 't/0': '3999' });
    acks.ack(ref(4000));
    expect(lastOffsets(acks)).toEqual({ 't/0': '4999' });
  });

  it('never commits past a gap when completions arrive out of order (marble)', () => {
    const ts = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    ts.run(({ cold, expectObservable }) => {
      const acks = new AckTracker();
      // Records a..e arrive one per frame; their outputs become durable after very different delays
      // (b is a dead letter written fast, a/c sit in a slow batch).
      const delays: Record<string, number> = { a: 6, b: 1, c: 6, d: 2, e: 9 };
      const offsets: Record<string, number> = { a: 0, b: 1, c: 2, d: 3, e: 4 };
      const arrivals = cold('abcde|');
      const committed = arrivals.pipe(
        map((name) => {
          acks.register(ref(offsets[name]!));
          return name;
        }),
        mergeMap((name) =>
          timer(delays[name]!).pipe(
            map(() => {
              acks.ack(ref(offsets[name]!));
              return acks.committable()[0]?.offset ?? '-';
            }),
          ),
        ),
      );
      // b@2 → '-', d@5 → '-', a@6 → '1' (a,b), c@8 → '3' (c,d), e@13 → '4'.
      expectObservable(committed).toBe('--b--da-c----(e|)', { b: '-', d: '-', a: '1', c: '3', e: '4' });
    });
  });
});
