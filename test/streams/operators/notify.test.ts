import { lastValueFrom, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { notify } from '../../../src/streams/operators/index.js';
import { pipelineErrorIn, testScheduler } from './helpers.js';

describe('notify', () => {
  it('calls a synchronous callback with each item and passes the item on at once', () => {
    const seen: string[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-b|').pipe(notify((x: string) => seen.push(x)))).toBe('a-b|');
    });
    expect(seen).toEqual(['a', 'b']);
  });

  it('waits for what the callback returns before passing the item on, one item at a time', () => {
    const calls: Array<[number, string]> = [];
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const slow = (x: string) => {
        calls.push([ts.now(), x]);
        return cold('---|');
      };
      // b arrives at 1 but is handed to the callback only when a's callback is done, at 3.
      expectObservable(cold('ab|').pipe(notify(slow))).toBe('---a--(b|)');
    });
    expect(calls).toEqual([
      [0, 'a'],
      [3, 'b'],
    ]);
  });

  it('awaits a promise-returning callback', async () => {
    const done: string[] = [];
    const out = await lastValueFrom(
      of('a', 'b').pipe(
        notify(async (x: string) => {
          await Promise.resolve();
          done.push(x);
        }),
      ),
    );
    expect(out).toBe('b');
    expect(done).toEqual(['a', 'b']);
  });

  it('passes items through without a callback', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-b|').pipe(notify<string>(undefined))).toBe('a-b|');
    });
  });

  it('fails in stage callback when the callback throws or what it returns fails', async () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const throwing = () => {
        throw new Error('metrics registry closed');
      };
      expectObservable(cold('-a|').pipe(notify(throwing))).toBe('-#', undefined, pipelineErrorIn('callback'));
      const failing = () => cold('--#', undefined, new Error('checkpoint write failed'));
      expectObservable(cold('a|').pipe(notify(failing))).toBe('--#', undefined, pipelineErrorIn('callback'));
    });
    const rejecting = () => Promise.reject(new Error('checkpoint write failed'));
    await expect(lastValueFrom(of('a').pipe(notify(rejecting)))).rejects.toMatchObject({
      stage: 'callback',
      message: 'pipeline failed in callback: checkpoint write failed',
    });
  });
});
