import {
  concatMap,
  finalize,
  identity,
  type MonoTypeOperatorFunction,
  map,
  tap,
  throwError,
  timer,
} from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/errors.js';
import { writeBehind } from '../../../src/streams/operators/index.js';
import { testScheduler } from './helpers.js';

type Part = 'score' | 'write' | 'finish';
const same: MonoTypeOperatorFunction<string> = identity;

/** Stages that take `frames[part]` frames each and log [part, item, start, end] in virtual time. */
function timedStages(frames: Record<Part, number>, failWriteOf?: string) {
  const log: Array<[Part, string, number, number]> = [];
  const ts = testScheduler();
  const stage = (part: Part): MonoTypeOperatorFunction<string> =>
    concatMap((x: string) => {
      const start = ts.now();
      if (part === 'write' && x === failWriteOf) {
        return timer(frames.write).pipe(concatMap(() => throwError(() => new Error(`write ${x} failed`))));
      }
      return timer(frames[part]).pipe(
        tap(() => log.push([part, x, start, ts.now()])),
        map(() => x),
      );
    });
  return { ts, log, stages: { score: stage('score'), write: stage('write'), finish: stage('finish') } };
}

/** True when no two entries of `parts` overlap in time. */
function exclusive(log: ReadonlyArray<[Part, string, number, number]>, parts: readonly Part[]): boolean {
  const spans = log.filter(([p]) => parts.includes(p)).sort((a, b) => a[2] - b[2]);
  return spans.every((s, i) => i === 0 || spans[i - 1]![3] <= s[2]);
}

describe('writeBehind', () => {
  it('with 0 writes in flight runs each item through score, write and finish before the next (oneAtATime)', () => {
    const { ts, log, stages } = timedStages({ score: 2, write: 5, finish: 1 });
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('abc|').pipe(writeBehind(stages, 0))).toBe('--------a-------b-------(c|)');
    });
    expect(log.filter(([p]) => p === 'score').map(([, x, start]) => [x, start])).toEqual([
      ['a', 0],
      ['b', 8],
      ['c', 16],
    ]);
  });

  it('with 1 write in flight scores the next item during the write, and keeps writes and finishes in order', () => {
    const { ts, log, stages } = timedStages({ score: 2, write: 5, finish: 1 });
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('abc|').pipe(writeBehind(stages, 1))).toBe('--------a----b----(c|)');
    });
    expect(log).toEqual([
      ['score', 'a', 0, 2],
      ['score', 'b', 2, 4], // during a's write
      ['write', 'a', 2, 7],
      // c waits: a is writing and b is scored, 2 unfinished > 1
      ['finish', 'a', 7, 8],
      ['score', 'c', 8, 10],
      ['write', 'b', 7, 12],
      ['finish', 'b', 12, 13],
      ['write', 'c', 12, 17],
      ['finish', 'c', 17, 18],
    ]);
    expect(exclusive(log, ['write'])).toBe(true);
  });

  it('never runs a finish during a score: a written item waits for the lane, then goes before the next score', () => {
    const { ts, log, stages } = timedStages({ score: 4, write: 1, finish: 1 });
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('abc|').pipe(writeBehind(stages, 2))).toBe('---------ab-----(c|)');
    });
    // a's write ended at 5 while b was being scored: a finishes at 8, then b (written at 9), then c is scored.
    expect(log.find(([p, x]) => p === 'finish' && x === 'a')).toEqual(['finish', 'a', 8, 9]);
    expect(log.find(([p, x]) => p === 'score' && x === 'c')).toEqual(['score', 'c', 10, 14]);
    expect(exclusive(log, ['score', 'finish'])).toBe(true);
  });

  it('after a write fails, finishes what was written before it, scores and writes nothing more, then fails', () => {
    const { ts, log, stages } = timedStages({ score: 4, write: 1, finish: 3 }, 'b');
    ts.run(({ cold, expectObservable }) => {
      const failed = new Error('write b failed');
      expectObservable(cold('abc|').pipe(writeBehind(stages, 2))).toBe('-----------(a#)', { a: 'a' }, failed);
    });
    // b's write failed at 9, during a's finish (8–11); c was never scored after that.
    expect(log).toEqual([
      ['score', 'a', 0, 4],
      ['write', 'a', 4, 5],
      ['score', 'b', 4, 8],
      ['finish', 'a', 8, 11],
    ]);
  });

  it('passes on errors of the source and of the score stage at once', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const boom = new Error('boom');
      const slowWrite = concatMap((x: string) => timer(10).pipe(map(() => x)));
      const stages = (score: MonoTypeOperatorFunction<string>) => ({
        score,
        write: slowWrite,
        finish: same,
      });
      expectObservable(cold('a#', {}, boom).pipe(writeBehind(stages(same), 1))).toBe('-#', {}, boom);
      const failOnB = map((x: string) => {
        if (x === 'b') throw boom;
        return x;
      });
      expectObservable(cold('ab|').pipe(writeBehind(stages(failOnB), 1))).toBe('-#', {}, boom);
    });
  });

  it('completes after the last finish, and at once on an empty source', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const stages = { score: same, write: same, finish: same };
      expectObservable(cold('ab|').pipe(writeBehind(stages, 1))).toBe('ab|');
      expectObservable(cold('|').pipe(writeBehind(stages, 1))).toBe('|');
    });
  });

  it('unsubscribing tears down the source, the lane and the write in flight', () => {
    const finalized: string[] = [];
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const slow = (what: string, frames: number): MonoTypeOperatorFunction<string> =>
        concatMap((x: string) =>
          timer(frames).pipe(
            map(() => x),
            finalize(() => finalized.push(`${what} ${x} @${ts.now()}`)),
          ),
        );
      const source = cold('ab---c|');
      const stages = { score: slow('score', 2), write: slow('write', 10), finish: same };
      expectObservable(source.pipe(writeBehind(stages, 1)), '^---!').toBe('----');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
    // At frame 4, a's write (2–12) is cut off; nothing runs on after the unsubscription.
    expect(finalized).toContain('write a @4');
    expect(finalized.every((f) => Number(f.split('@')[1]) <= 4)).toBe(true);
  });

  it('rejects a writesInFlight outside 0–8 with a message that says the range', () => {
    const stages = { score: same, write: same, finish: same };
    for (const bad of [-1, 9, 1.5, Number.NaN]) {
      expect(() => writeBehind(stages, bad)).toThrow(InvalidOptionError);
    }
    expect(() => writeBehind(stages, 9)).toThrow(/from 0 .* to 8, got 9/);
  });
});
