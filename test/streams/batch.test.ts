import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { microBatch } from '../../src/streams/batch.js';

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('microBatch', () => {
  it('emits by count when maxSize is reached', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('abc-def-g|');
      const op = microBatch<string>({ maxSize: 3, maxWaitMs: 100 });
      expectObservable(source.pipe(op)).toBe('--x---y--(z|)', {
        x: ['a', 'b', 'c'],
        y: ['d', 'e', 'f'],
        z: ['g'],
      });
    });
  });

  it('emits maxWaitMs after the FIRST element of each batch, not on a free-running timer', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      // a at 0 → flush at 5 with [a, b]; c at 7 starts a new window → flush at 12 with [c]; d at 20 → 25.
      const source = cold('a-b----c------------d-------|');
      const op = microBatch<string>({ maxSize: 10, maxWaitMs: 5, scheduler: ts });
      expectObservable(source.pipe(op)).toBe('-----x------y------------z--|', {
        x: ['a', 'b'],
        y: ['c'],
        z: ['d'],
      });
    });
  });

  it('mixes count and time triggers; a count flush cancels the pending timer', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      // [a b] fills at 1 (timer cancelled); c at 3 → time flush at 7; d e at 10,11 fill at 11.
      const source = cold('ab-c------de---|');
      const op = microBatch<string>({ maxSize: 2, maxWaitMs: 4, scheduler: ts });
      expectObservable(source.pipe(op)).toBe('-x-----y---z---|', { x: ['a', 'b'], y: ['c'], z: ['d', 'e'] });
    });
  });

  it('flushes the remainder on completion and never emits empty batches', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('ab|').pipe(microBatch({ maxSize: 5, maxWaitMs: 10, scheduler: ts }))).toBe(
        '--(x|)',
        {
          x: ['a', 'b'],
        },
      );
      expectObservable(cold('---|').pipe(microBatch({ maxSize: 5, maxWaitMs: 1, scheduler: ts }))).toBe(
        '---|',
      );
      // Completion right after a time flush emits nothing more.
      expectObservable(cold('a------|').pipe(microBatch({ maxSize: 5, maxWaitMs: 2, scheduler: ts }))).toBe(
        '--x----|',
        { x: ['a'] },
      );
    });
  });

  it('propagates errors, drops the partial batch and cancels the timer', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('abc-d#', undefined, new Error('boom'));
      const op = microBatch<string>({ maxSize: 3, maxWaitMs: 50, scheduler: ts });
      expectObservable(source.pipe(op)).toBe('--x--#', { x: ['a', 'b', 'c'] }, new Error('boom'));
    });
  });

  it('batches by count only when maxWaitMs is Infinity', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('a 999ms b 999ms c 999ms |');
      const op = microBatch<string>({ maxSize: 2, maxWaitMs: Number.POSITIVE_INFINITY, scheduler: ts });
      expectObservable(source.pipe(op)).toBe('1000ms x 1999ms (y|)', { x: ['a', 'b'], y: ['c'] });
    });
  });

  it('unsubscribing cancels the timer', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('a-------|');
      const op = microBatch<string>({ maxSize: 5, maxWaitMs: 5, scheduler: ts });
      expectObservable(source.pipe(op), '^--!').toBe('----');
    });
  });

  it('handles re-entrant emissions from inside a flush', () => {
    const source = new Subject<number>();
    const seen: number[][] = [];
    source
      .pipe(microBatch<number>({ maxSize: 2, maxWaitMs: Number.POSITIVE_INFINITY }))
      .subscribe((batch) => {
        seen.push(batch);
        if (batch[0] === 1) source.next(3); // downstream causes upstream to emit while flushing
      });
    source.next(1);
    source.next(2);
    source.next(4);
    source.complete();
    expect(seen).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('validates its options', () => {
    expect(() => microBatch({ maxSize: 0, maxWaitMs: 1 })).toThrow(InvalidOptionError);
    expect(() => microBatch({ maxSize: 1.5, maxWaitMs: 1 })).toThrow(/maxSize/);
    expect(() => microBatch({ maxSize: 1, maxWaitMs: -1 })).toThrow(/maxWaitMs/);
    expect(() => microBatch({ maxSize: 1, maxWaitMs: Number.NaN })).toThrow(InvalidOptionError);
  });
});
