/**
 * Regression: a Kafka job did not exit after SIGTERM, in 1 of 4 runs of
 * test/integration/kafka-restart.test.ts with the in-batch credit wait on (issue 14, item 7).
 *
 * The hung process had no timer left and one socket open to the broker: the lag poller's admin client.
 * `SessionMonitor` connects that admin lazily, on the first lag poll (`lagIntervalMs`, 5 s, after the
 * consumer started). When `stop()` ran while `admin.connect()` was still in flight, it found no admin
 * to disconnect; the connect then completed and the admin stayed connected for ever, holding the event
 * loop open. With the credit wait the restarted instance drained its backlog in about 5 s, so SIGTERM
 * landed right on the first poll; pausing at every full gate made the same backlog take ~15 s, and the
 * admin was long connected (and so disconnected by `stop()`) when SIGTERM came.
 *
 * The interleaving is forced here: the admin's connect is held open until `stop()` returned.
 */
import type { Admin } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { tpKey } from '../../src/kafka/assignment.js';
import { createKafka, type KafkaClient } from '../../src/kafka/index.js';
import { SessionMonitor } from '../../src/kafka/session-monitor.js';
import type { KafkaSourceSettings } from '../../src/kafka/source-types.js';
import { createLogger } from '../../src/logging.js';
import { AckTracker } from '../../src/streams/acks.js';

const TOPIC = 't';
const LAG_INTERVAL_MS = 1000;

/**
 * A real kafkajs admin (never connected) modelling the connection: `connect` and, when `holdRequests`,
 * `fetchTopicOffsets` wait until `release`; a request completing after `disconnect` reopens the
 * connection, as kafkajs does when it retries a request whose connection closed.
 */
function heldAdmin(base: Admin, holdRequests: boolean) {
  const held: (() => void)[] = [];
  const state = { open: false, connects: 0, disconnects: 0, requests: 0 };
  const wait = (): Promise<void> => new Promise<void>((resolve) => held.push(resolve));
  const request = async <T>(value: T, hold: boolean): Promise<T> => {
    state.requests++;
    if (hold) await wait();
    state.open = true;
    return value;
  };
  const admin: Admin = Object.assign(Object.create(base) as Admin, {
    connect: async () => {
      state.connects++;
      await wait();
      state.open = true;
    },
    disconnect: () => {
      state.disconnects++;
      state.open = false;
      return Promise.resolve();
    },
    fetchOffsets: () => request([{ topic: TOPIC, partitions: [] }], false),
    fetchTopicOffsets: () => request([{ partition: 0, offset: '10', high: '10', low: '0' }], holdRequests),
  });
  return {
    admin,
    state,
    release: () => {
      for (const resolve of held.splice(0)) resolve();
    },
  };
}

describe('SessionMonitor: an admin still connecting when the session stops', () => {
  const real = createKafka(loadConfig({ env: {}, overrides: { features: { fields: ['x'] } } }).kafka, {
    logger: createLogger({ level: 'silent' }),
  });

  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(holdRequests = false) {
    const held = heldAdmin(real.admin(), holdRequests);
    const client: KafkaClient = {
      clientId: real.clientId,
      brokers: real.brokers,
      logger: real.logger,
      consumer: (c) => real.consumer(c),
      producer: (c) => real.producer(c),
      admin: () => held.admin,
      error: (err, action) => real.error(err, action),
    };
    const lags: number[] = [];
    const settings: KafkaSourceSettings = {
      client,
      groupId: 'g',
      topics: [TOPIC],
      start: 'earliest',
      acks: new AckTracker(),
      commitIntervalMs: 1000,
      sessionTimeoutMs: 30_000,
      heartbeatIntervalMs: 3000,
      rebalanceTimeoutMs: 60_000,
      maxWaitTimeMs: 500,
      pauseAfterMs: 0,
      maxBytesPerPartition: 1_048_576,
      lagIntervalMs: LAG_INTERVAL_MS,
      observer: { lag: (e) => lags.push(e.lag) },
    };
    const monitor = new SessionMonitor({
      settings,
      positions: () => new Map([[tpKey(TOPIC, 0), 4n]]),
      assigned: () => new Set([tpKey(TOPIC, 0)]),
      onOutage: () => undefined,
    });
    return { held, monitor, lags };
  }

  it('disconnects it once the connect completes, and reports no lag after stop', async () => {
    const { held, monitor, lags } = setup();
    monitor.start();
    await vi.advanceTimersByTimeAsync(LAG_INTERVAL_MS);
    expect(held.state.connects).toBe(1);

    await monitor.stop();
    held.release();
    await vi.waitFor(() => expect(held.state.disconnects).toBe(1));
    expect(held.state.open).toBe(false);
    await vi.advanceTimersByTimeAsync(5 * LAG_INTERVAL_MS);
    expect(held.state.connects).toBe(1);
    expect(lags).toEqual([]);
  });

  it('closes the connection a request still in flight at stop reopened (the hang seen in kafka-restart)', async () => {
    const { held, monitor, lags } = setup(true);
    monitor.start();
    await vi.advanceTimersByTimeAsync(LAG_INTERVAL_MS);
    held.release(); // connected; the end-offsets request is now held
    await vi.waitFor(() => expect(held.state.requests).toBe(2));

    await monitor.stop();
    expect(held.state.open).toBe(false);
    held.release(); // the request completes after the disconnect, reconnecting
    await vi.waitFor(() => expect(held.state.disconnects).toBe(2));
    expect(held.state.open).toBe(false);
    expect(lags).toEqual([]);
  });

  it('never starts polling when started after stop (a close during the consumer start)', async () => {
    const { held, monitor } = setup();
    await monitor.stop();
    monitor.start();
    await vi.advanceTimersByTimeAsync(5 * LAG_INTERVAL_MS);
    expect(held.state.connects).toBe(0);
  });

  it('still polls lag and disconnects a connected admin on stop (the normal path)', async () => {
    const { held, monitor, lags } = setup();
    monitor.start();
    await vi.advanceTimersByTimeAsync(LAG_INTERVAL_MS);
    held.release();
    await vi.waitFor(() => expect(lags).toEqual([6]));
    await monitor.stop();
    expect(held.state.disconnects).toBe(1);
    expect(held.state.open).toBe(false);
  });
});
