import { setImmediate as nextTurn } from 'node:timers/promises';
import { concatMap, map, take, tap, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { bindPauseResume, CreditGate } from '../../src/streams/backpressure.js';
import { pullSource, SourceError } from '../../src/streams/source.js';
import { StallWatchingGate } from '../helpers/stall-gate.js';

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** An endless sync iterable that counts how often it was pulled. */
function counting(): { iterable: () => Iterable<number>; pulled: () => number; closed: () => boolean } {
  let pulled = 0;
  let closed = false;
  function* gen(): Generator<number> {
    try {
      for (;;) yield pulled++;
    } finally {
      closed = true;
    }
  }
  return { iterable: () => gen(), pulled: () => pulled, closed: () => closed };
}

describe('CreditGate', () => {
  it('hands out at most highWaterMark credits and tracks the peak', () => {
    const gate = new CreditGate(2);
    expect([gate.tryAcquire(), gate.tryAcquire(), gate.tryAcquire()]).toEqual([true, true, false]);
    expect(gate.inFlight).toBe(2);
    expect(gate.available).toBe(0);
    gate.release();
    expect(gate.tryAcquire()).toBe(true);
    expect(gate.maxInFlight).toBe(2);
  });

  it('gives a late subscriber of inFlight$ the current count, then every change (issue 14: unobserved, it skips the subject)', () => {
    const gate = new CreditGate(4);
    gate.tryAcquire();
    gate.tryAcquire();
    gate.tryAcquire();
    gate.release(1);
    const seen: number[] = [];
    const sub = gate.inFlight$.subscribe((n) => seen.push(n));
    gate.tryAcquire();
    gate.release(3);
    sub.unsubscribe();
    gate.tryAcquire();
    const exhausted: boolean[] = [];
    gate.tryAcquire();
    gate.tryAcquire();
    const sub2 = gate.exhausted$.subscribe((x) => exhausted.push(x));
    gate.tryAcquire();
    sub2.unsubscribe();
    expect(seen).toEqual([2, 3, 0]);
    expect(exhausted).toEqual([false, true]);
    expect(gate.inFlight).toBe(4);
  });

  it('rejects bad options and over-release', () => {
    expect(() => new CreditGate(0)).toThrow(InvalidOptionError);
    expect(() => new CreditGate(2.5)).toThrow(/highWaterMark/);
    const gate = new CreditGate(1);
    expect(() => gate.release()).toThrow(/cannot release/);
  });

  it('acquire waits for a release, and returns false when aborted', async () => {
    const gate = new CreditGate(1);
    await expect(gate.acquire()).resolves.toBe(true);
    const waiting = gate.acquire();
    gate.release();
    await expect(waiting).resolves.toBe(true);
    const controller = new AbortController();
    const aborted = gate.acquire(controller.signal);
    controller.abort();
    await expect(aborted).resolves.toBe(false);
    expect(gate.inFlight).toBe(1);
  });
});

describe('pullSource (sync iterables, marble)', () => {
  it('a slow consumer paces a fast source: at most highWaterMark in flight', () => {
    const ts = testScheduler();
    const counter = counting();
    const gate = new CreditGate(3);
    const emittedAt: Array<[number, number]> = [];
    ts.run(({ expectObservable }) => {
      const consumed = pullSource(counter.iterable, gate).pipe(
        tap((x) => emittedAt.push([ts.now(), x])),
        // The consumer needs 10 ms per record, then acknowledges it (releases the credit).
        concatMap((x) =>
          timer(10).pipe(
            map(() => {
              gate.release();
              return x;
            }),
          ),
        ),
        take(5),
      );
      expectObservable(consumed).toBe('10ms a 9ms b 9ms c 9ms d 9ms (e|)', { a: 0, b: 1, c: 2, d: 3, e: 4 });
    });
    // Three up front, then exactly one per acknowledgement.
    expect(emittedAt).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [10, 3],
      [20, 4],
      [30, 5],
      [40, 6],
      [50, 7],
    ]);
    expect(gate.maxInFlight).toBe(3);
    expect(counter.pulled()).toBe(8);
    expect(counter.closed()).toBe(true);
  });

  it('an endless source with no acknowledgements is pulled exactly highWaterMark times', () => {
    const counter = counting();
    const gate = new CreditGate(4);
    const seen: number[] = [];
    const sub = pullSource(counter.iterable, gate).subscribe((x) => seen.push(x));
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(counter.pulled()).toBe(4);
    gate.release(2);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    sub.unsubscribe();
    expect(counter.closed()).toBe(true);
  });

  it('completes at the end of input and returns the unused credit', () => {
    const gate = new CreditGate(5);
    const seen: number[] = [];
    let completed = false;
    pullSource(() => [1, 2], gate).subscribe({
      next: (x) => seen.push(x),
      complete: () => (completed = true),
    });
    expect(seen).toEqual([1, 2]);
    expect(completed).toBe(true);
    expect(gate.inFlight).toBe(2);
  });

  it('turns iterator failures into SourceError', () => {
    const gate = new CreditGate(5);
    function* failing(): Generator<number> {
      yield 1;
      throw new Error('disk on fire');
    }
    let error: unknown;
    pullSource(() => failing(), gate).subscribe({ error: (err: unknown) => (error = err) });
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).message).toMatch(/disk on fire/);
    expect(gate.inFlight).toBe(1);
  });
});

describe('pullSource (async iterables)', () => {
  it('never reads more than highWaterMark ahead of acknowledgements', async () => {
    const gate = new CreditGate(5);
    let pulled = 0;
    let acked = 0;
    let worstLead = 0;
    async function* fast(): AsyncGenerator<number> {
      for (;;) {
        worstLead = Math.max(worstLead, pulled - acked);
        yield pulled++;
      }
    }
    const values: number[] = [];
    await new Promise<void>((resolve) => {
      const sub = pullSource(() => fast(), gate).subscribe((x) => {
        values.push(x);
        // Acknowledge asynchronously, on a later event-loop turn, like a sink write.
        void nextTurn().then(() => {
          acked++;
          gate.release();
          if (acked === 50) {
            sub.unsubscribe();
            resolve();
          }
        });
      });
    });
    expect(values.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(worstLead).toBeLessThanOrEqual(5);
    expect(gate.maxInFlight).toBeLessThanOrEqual(5);
  });

  it('a stalled consumer stalls the source, and unsubscribing closes the iterator', async () => {
    const gate = new StallWatchingGate(3);
    let pulled = 0;
    let onClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => {
      onClosed = resolve;
    });
    async function* endless(): AsyncGenerator<number> {
      try {
        for (;;) yield pulled++;
      } finally {
        onClosed();
      }
    }
    const seen: number[] = [];
    let overrun: () => void = () => undefined;
    const overran = new Promise<void>((resolve) => {
      overrun = resolve;
    });
    const sub = pullSource(() => endless(), gate).subscribe((x) => {
      if (seen.push(x) > 3) overrun();
    });
    // The source waits for a 4th credit: from here on it cannot read ahead until one is released. (A
    // source that ignored the credits would never wait; `overran` ends the wait then, and the test fails.)
    await Promise.race([gate.stalled(), overran]);
    expect(seen).toEqual([0, 1, 2]);
    expect(pulled).toBe(3);
    expect(gate.inFlight).toBe(3);
    sub.unsubscribe();
    await closed; // the iterator's finally ran
    expect(pulled).toBe(3);
  });
});

describe('bindPauseResume', () => {
  it('pauses a push source when credit runs out and resumes on release', () => {
    const gate = new CreditGate(2);
    const calls: string[] = [];
    const binding = bindPauseResume(gate, {
      pause: () => calls.push('pause'),
      resume: () => calls.push('resume'),
    });
    gate.tryAcquire();
    expect(calls).toEqual([]);
    gate.tryAcquire();
    expect(calls).toEqual(['pause']);
    gate.release();
    gate.release();
    expect(calls).toEqual(['pause', 'resume']);
    gate.tryAcquire();
    gate.tryAcquire();
    expect(calls).toEqual(['pause', 'resume', 'pause']);
    binding.unsubscribe();
    gate.release(2);
    expect(calls).toEqual(['pause', 'resume', 'pause']);
  });
});
