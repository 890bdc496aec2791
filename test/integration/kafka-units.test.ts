import type { KafkaMessage } from 'kafkajs';
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { InvalidOptionError } from '../../src/errors.js';
import { assignmentKeys, isRebalanceError, revocation, tpKey } from '../../src/kafka/assignment.js';
import { awaitCredit } from '../../src/kafka/credit-wait.js';
import {
  createKafka,
  deadLetterMessage,
  KafkaError,
  KafkaSource,
  OffsetCommitter,
  type OffsetToCommit,
  OUTPUT_HEADERS,
  scoredEventMessage,
  toSourceRecord,
} from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging.js';
import { AckTracker, type CommitPosition } from '../../src/streams/acks.js';
import { CreditGate } from '../../src/streams/backpressure.js';
import type { ScoredEvent } from '../../src/streams/types.js';

const position = (partition: number, commitOffset: string): CommitPosition => ({
  topic: 't',
  partition,
  offset: String(Number(commitOffset) - 1),
  commitOffset,
});

describe('OffsetCommitter', () => {
  it('throttles scheduled commits, reads positions when it runs, and skips partitions that did not move', async () => {
    const scheduler = new VirtualTimeScheduler();
    const sent: OffsetToCommit[][] = [];
    const committer = new OffsetCommitter({
      send: (offsets) => {
        sent.push([...offsets]);
        return Promise.resolve();
      },
      intervalMs: 1000,
      scheduler,
    });
    let positions = [position(0, '5')];
    committer.schedule(() => positions);
    committer.schedule(() => positions); // coalesced
    positions = [position(0, '7'), position(1, '3')];
    scheduler.flush();
    await committer.idle();
    expect(sent).toEqual([
      [
        { topic: 't', partition: 0, offset: '7' },
        { topic: 't', partition: 1, offset: '3' },
      ],
    ]);
    positions = [position(0, '7'), position(1, '9')];
    committer.schedule(() => positions);
    scheduler.flush();
    await committer.idle();
    expect(sent[1]).toEqual([{ topic: 't', partition: 1, offset: '9' }]);
    expect(scheduler.now()).toBe(1000); // the second commit waited out the interval
    committer.forget('t', 0);
    await committer.commit(() => positions);
    expect(sent[2]).toEqual([{ topic: 't', partition: 0, offset: '7' }]);
  });

  it('never overlaps commits and reports failed scheduled commits', async () => {
    const scheduler = new VirtualTimeScheduler();
    const order: string[] = [];
    let release: () => void = () => undefined;
    const errors: unknown[] = [];
    const committer = new OffsetCommitter({
      send: async (offsets) => {
        order.push(`start ${offsets[0]?.offset}`);
        if (offsets[0]?.offset === '1') await new Promise<void>((r) => (release = r));
        if (offsets[0]?.offset === '3') throw new Error('rebalancing');
        order.push(`end ${offsets[0]?.offset}`);
      },
      intervalMs: 0,
      scheduler,
      onScheduledError: (err) => errors.push(err),
    });
    const first = committer.commit(() => [position(0, '1')]);
    const second = committer.commit(() => [position(0, '2')]);
    await Promise.resolve();
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    committer.schedule(() => [position(0, '3')]);
    scheduler.flush();
    await committer.idle();
    expect(errors).toHaveLength(1);
    committer.stop();
    committer.schedule(() => [position(0, '4')]);
    scheduler.flush();
    await committer.idle();
    expect(order).not.toContain('start 4');
  });
});

describe('rebalance bookkeeping', () => {
  it('revokes partitions held before and missing from the new assignment, with their committable positions', () => {
    const next = assignmentKeys({ t: [0, 2], u: [1] });
    expect(next).toEqual(new Set([tpKey('t', 0), tpKey('t', 2), tpKey('u', 1)]));
    const held = [tpKey('t', 0), tpKey('t', 1), tpKey('t', 3), tpKey('u', 1)];
    const { revoked, positions } = revocation(held, next, [
      position(0, '4'),
      position(1, '8'),
      position(2, '1'),
    ]);
    expect(revoked).toEqual([
      { topic: 't', partition: 1 },
      { topic: 't', partition: 3 },
    ]);
    expect(positions).toEqual([position(1, '8')]);
    expect(revocation(held, new Set(held), []).revoked).toEqual([]);
  });

  it('recognises rebalance errors, also when wrapped', () => {
    expect(isRebalanceError({ type: 'REBALANCE_IN_PROGRESS' })).toBe(true);
    expect(
      isRebalanceError(new KafkaError('x', 'transient', { cause: { type: 'ILLEGAL_GENERATION' } })),
    ).toBe(true);
    expect(isRebalanceError({ type: 'TOPIC_AUTHORIZATION_FAILED' })).toBe(false);
    expect(isRebalanceError(null)).toBe(false);
  });
});

describe('Kafka message mapping', () => {
  it('turns a kafkajs message into a record with plain byte arrays, keeping the last of repeated headers', () => {
    const message = {
      offset: '42',
      timestamp: '1700000000123',
      key: Buffer.from('entity-1'),
      value: null,
      headers: {
        a: Buffer.from('x'),
        b: 'text',
        c: [Buffer.from('first'), Buffer.from('last')],
        d: undefined,
      },
      attributes: 0,
      size: 0,
    } as unknown as KafkaMessage;
    const record = toSourceRecord('in', 3, message);
    expect(record).toEqual({
      topic: 'in',
      partition: 3,
      offset: '42',
      timestamp: 1_700_000_000_123,
      key: new TextEncoder().encode('entity-1'),
      headers: {
        a: new TextEncoder().encode('x'),
        b: new TextEncoder().encode('text'),
        c: new TextEncoder().encode('last'),
      },
      value: null,
    });
    expect(Buffer.isBuffer(record.key)).toBe(false);
  });

  it('dead letters keep the original bytes and headers, truncating only oversize values', () => {
    const record = {
      topic: 'in',
      partition: 1,
      offset: '9',
      timestamp: 5,
      key: Uint8Array.of(1, 2),
      headers: { trace: Uint8Array.of(3) },
      value: Uint8Array.from({ length: 20 }, (_, i) => i),
    };
    const small = deadLetterMessage({ record, reason: 'not_json', detail: 'bad' }, 100);
    expect(small.value).toEqual(Buffer.from(record.value));
    expect(small.key).toEqual(Buffer.from([1, 2]));
    expect(small.headers).toMatchObject({
      trace: Buffer.from([3]),
      [OUTPUT_HEADERS.dlqReason]: 'not_json',
      [OUTPUT_HEADERS.dlqDetail]: 'bad',
      [OUTPUT_HEADERS.sourceTopic]: 'in',
      [OUTPUT_HEADERS.sourcePartition]: '1',
      [OUTPUT_HEADERS.sourceOffset]: '9',
    });
    const cut = deadLetterMessage({ record, reason: 'oversize', detail: 'big' }, 8);
    expect(cut.value).toEqual(Buffer.from(record.value.subarray(0, 8)));
    expect(cut.headers?.[OUTPUT_HEADERS.dlqTruncated]).toBe('20');
  });

  it('scored events carry the model version, and the reason only when anomalous', () => {
    const event: ScoredEvent = {
      ref: { topic: 'in', partition: 0, offset: '1' },
      timestamp: 1,
      key: 'e1',
      status: 'scored',
      logLikelihood: -9,
      anomalyScore: 0.99,
      threshold: -5,
      isAnomaly: true,
      modelVersion: 12,
    };
    const anomaly = scoredEventMessage(event);
    expect(anomaly.key).toBe('e1');
    expect(JSON.parse(String(anomaly.value))).toMatchObject({ isAnomaly: true, modelVersion: 12 });
    expect(anomaly.headers).toMatchObject({
      [OUTPUT_HEADERS.modelVersion]: '12',
      [OUTPUT_HEADERS.reason]: 'threshold',
    });
    expect(
      scoredEventMessage({ ...event, isAnomaly: false }).headers?.[OUTPUT_HEADERS.reason],
    ).toBeUndefined();
  });
});

describe('KafkaSource options', () => {
  const client = createKafka(loadConfig({ env: {}, overrides: { features: { fields: ['x'] } } }).kafka, {
    logger: createLogger({ level: 'silent' }),
  });
  const base = { client, groupId: 'g', topics: ['t'], acks: new AckTracker() };

  it.each([
    ['an empty group id', { groupId: '' }, /groupId/],
    ['no topics', { topics: [] }, /topics/],
    ['an unknown start position', { start: 'middle' as never }, /start must be one of/],
    [
      'a heartbeat as long as the session',
      { sessionTimeoutMs: 6000, heartbeatIntervalMs: 6000 },
      /heartbeatIntervalMs/,
    ],
    ['a negative commit interval', { commitIntervalMs: -1 }, /commitIntervalMs/],
    ['a negative credit wait', { pauseAfterMs: -1 }, /pauseAfterMs/],
  ])('rejects %s', (_case, override, message) => {
    expect(() => new KafkaSource({ ...base, ...override })).toThrow(InvalidOptionError);
    expect(() => new KafkaSource({ ...base, ...override })).toThrow(message);
  });
});

describe('awaitCredit (the source waits for credit inside a fetched batch)', () => {
  /** Runs virtual time and the promise continuations between timers until `done`. */
  async function settle(scheduler: VirtualTimeScheduler, done: () => boolean): Promise<void> {
    for (let i = 0; i < 50 && !done(); i++) {
      scheduler.flush();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  function setup(pauseAfterMs: number) {
    const scheduler = new VirtualTimeScheduler();
    const credits = new CreditGate(2);
    credits.tryAcquire();
    credits.tryAcquire();
    const heartbeats: number[] = [];
    const abort = new AbortController();
    let result: boolean | undefined;
    const run = awaitCredit(
      credits,
      { pauseAfterMs, heartbeatIntervalMs: 300, scheduler },
      () => {
        heartbeats.push(scheduler.now());
        return Promise.resolve();
      },
      abort.signal,
    ).then((got) => {
      result = got;
    });
    return { scheduler, credits, heartbeats, abort, run, result: () => result };
  }

  it('returns true as soon as a credit comes back, after one heartbeat', async () => {
    const t = setup(1000);
    t.credits.release(1);
    await t.run;
    expect(t.result()).toBe(true);
    expect(t.heartbeats).toEqual([0]);
  });

  it('gives up after pauseAfterMs, heartbeating every heartbeatIntervalMs meanwhile', async () => {
    const t = setup(1000);
    await settle(t.scheduler, () => t.result() !== undefined);
    expect(t.result()).toBe(false);
    expect(t.heartbeats).toEqual([300, 600, 900, 1000]);
  });

  it('ends at once when the session detaches, and does not wait at all with pauseAfterMs 0', async () => {
    const t = setup(1000);
    t.abort.abort();
    await t.run;
    expect(t.result()).toBe(false);
    const zero = setup(0);
    await zero.run;
    expect(zero.result()).toBe(false);
    expect(zero.heartbeats).toEqual([]);
  });
});
