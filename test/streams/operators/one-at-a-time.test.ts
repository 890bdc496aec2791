import { concatMap, map, mergeMap, pipe, tap, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { oneAtATime } from '../../../src/streams/operators/index.js';
import { testScheduler } from './helpers.js';

describe('oneAtATime', () => {
  it('lets the next item into the stages only after the previous one came out of all of them', () => {
    const entered: Array<[number, string]> = [];
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      // Two stages of 2 frames each. Chained at top level, b would enter stage 1 while a is in stage 2.
      const stage = mergeMap((x: string) => timer(2).pipe(map(() => x)));
      const stages = pipe(
        tap((x: string) => entered.push([ts.now(), x])),
        stage,
        stage,
      );
      expectObservable(cold('ab|').pipe(oneAtATime(stages))).toBe('----a---(b|)');
    });
    expect(entered).toEqual([
      [0, 'a'],
      [4, 'b'],
    ]);
  });

  it('moves on when the stages drop an item, and propagates their errors', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const dropOdd = concatMap((n: number) => (n % 2 === 1 ? [] : [n * 10]));
      expectObservable(cold('abc|', { a: 1, b: 2, c: 3 }).pipe(oneAtATime(dropOdd))).toBe('-x-|', { x: 20 });
      const boom = new Error('boom');
      const failing = map((n: number) => {
        if (n === 2) throw boom;
        return n;
      });
      expectObservable(cold('ab|', { a: 1, b: 2 }).pipe(oneAtATime(failing))).toBe('a#', { a: 1 }, boom);
    });
  });
});
