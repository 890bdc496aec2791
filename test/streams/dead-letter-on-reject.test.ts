import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import {
  deadLetterOnReject,
  deadLetterRejectedOutputs,
  scoredEventDeadLetter,
} from '../../src/streams/dead-letter-on-reject.js';
import { MemorySink } from '../../src/streams/sinks.js';
import type { DeadLetter, ScoredEvent, Sink } from '../../src/streams/types.js';

class Rejected extends Error {
  constructor(readonly type: string) {
    super(`broker says ${type}`);
  }
}

/** Accepts a write only if no item is 'big'; 'down' fails every write with a non-rejection error. */
class PickySink implements Sink<string> {
  readonly items: string[] = [];
  writes = 0;
  write(items: readonly string[]): Promise<void> {
    this.writes++;
    if (items.includes('down')) return Promise.reject(new Error('connection lost'));
    if (items.some((i) => i.startsWith('big'))) return Promise.reject(new Rejected('MESSAGE_TOO_LARGE'));
    this.items.push(...items);
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const rejection = (err: unknown): string | undefined => (err instanceof Rejected ? err.type : undefined);

function event(offset: number, key: string | null): ScoredEvent {
  return {
    ref: { topic: 'in', partition: 2, offset: String(offset) },
    timestamp: 1000 + offset,
    key,
    status: 'scored',
    logLikelihood: -1,
    anomalyScore: 0.5,
    threshold: -3,
    isAnomaly: false,
    modelVersion: 4,
  };
}

function setup() {
  const sink = new PickySink();
  const deadLetters = new MemorySink<DeadLetter>();
  const rejected: DeadLetter[] = [];
  const wrapped = deadLetterOnReject(sink, {
    deadLetters,
    name: 'scores',
    rejection,
    toDeadLetter: (item, detail) => ({
      record: { topic: 'in', partition: 0, offset: item, timestamp: 0, key: null, headers: {}, value: null },
      reason: 'output_rejected',
      detail,
    }),
    onRejected: (d) => rejected.push(d),
  });
  return { sink, deadLetters, rejected, wrapped };
}

describe('deadLetterOnReject', () => {
  it('isolates the rejected items by bisection, dead-letters them with the reason, writes the rest in order', async () => {
    const { sink, deadLetters, rejected, wrapped } = setup();
    const items = ['a', 'b', 'big1', 'c', 'd', 'e', 'big2', 'f'];
    await wrapped.write(items);
    expect(sink.items).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(deadLetters.items.map((d) => [d.record.offset, d.detail])).toEqual([
      ['big1', 'scores: MESSAGE_TOO_LARGE'],
      ['big2', 'scores: MESSAGE_TOO_LARGE'],
    ]);
    expect(rejected).toEqual(deadLetters.items);
    // 8 items, 2 rejected: far fewer writes than one per item plus retries.
    expect(sink.writes).toBeLessThan(12);
  });

  it('writes a clean batch once and lets other errors through unchanged', async () => {
    const { sink, deadLetters, wrapped } = setup();
    await wrapped.write(['a', 'b']);
    expect(sink.writes).toBe(1);
    await expect(wrapped.write(['a', 'down', 'big'])).rejects.toThrow('connection lost');
    expect(deadLetters.items).toEqual([]);
  });

  it('fails when the dead-letter sink fails, and validates its options', async () => {
    const sink = new PickySink();
    const deadLetters = new MemorySink<DeadLetter>();
    await deadLetters.close();
    const wrapped = deadLetterOnReject(sink, {
      deadLetters,
      name: 'x',
      rejection,
      toDeadLetter: (_, detail) => scoredEventDeadLetter(event(1, null), detail),
    });
    await expect(wrapped.write(['big'])).rejects.toThrow(/closed/);
    expect(() =>
      deadLetterOnReject(sink, {
        deadLetters: {} as Sink<DeadLetter>,
        name: 'x',
        rejection,
        toDeadLetter: () => ({}) as DeadLetter,
      }),
    ).toThrow(InvalidOptionError);
  });

  it('turns a rejected scored event into an output_rejected dead letter carrying the output and the input position', () => {
    const dead = scoredEventDeadLetter(event(9, 'host-ü'), 'anomalies: MESSAGE_TOO_LARGE');
    expect(dead.reason).toBe('output_rejected');
    expect(dead.record).toMatchObject({ topic: 'in', partition: 2, offset: '9', timestamp: 1009 });
    expect(Buffer.from(dead.record.key ?? []).toString('utf8')).toBe('host-ü');
    const value = JSON.parse(Buffer.from(dead.record.value ?? []).toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(value).toMatchObject({ topic: 'in', partition: 2, offset: '9', key: 'host-ü' });
  });

  it('wraps the anomalies and scores sinks of a pipeline, leaving dead letters and drift alone', async () => {
    const deadLetters = new MemorySink<DeadLetter>();
    const failing: Sink<ScoredEvent> = {
      write: (items) =>
        items.some((e) => e.key === 'huge')
          ? Promise.reject(new Rejected('INVALID_RECORD'))
          : Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const sinks = deadLetterRejectedOutputs({ anomalies: failing, scores: failing, deadLetters }, rejection);
    expect(sinks.deadLetters).toBe(deadLetters);
    await sinks.anomalies.write([event(1, 'a'), event(2, 'huge')]);
    await sinks.scores?.write([event(2, 'huge')]);
    expect(deadLetters.items.map((d) => d.detail)).toEqual([
      'anomalies: INVALID_RECORD',
      'scores: INVALID_RECORD',
    ]);
  });
});
