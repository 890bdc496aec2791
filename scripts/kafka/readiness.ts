import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';

/** Topic created by the readiness probe; harmless to leave behind (the broker's data dir is thrown away). */
export const PROBE_TOPIC = '__flowsentinel_probe';

/** True when a TCP connection to host:port succeeds within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Polls host:port every `intervalMs` until it accepts connections. Resolves false when `shouldStop()`
 * turns true (e.g. the broker exited) or `deadline` (epoch ms) passes.
 */
export async function waitForPort(
  host: string,
  port: number,
  deadline: number,
  shouldStop: () => boolean,
  intervalMs = 150,
): Promise<boolean> {
  while (Date.now() < deadline && !shouldStop()) {
    if (await canConnect(host, port)) return true;
    await sleep(intervalMs);
  }
  return false;
}

/**
 * Application-level readiness: creates {@link PROBE_TOPIC} waiting for its leader, then fetches the
 * offsets of a group once so `__consumer_offsets` exists before the first consumer joins.
 */
export async function probeKafka(brokers: readonly string[]): Promise<void> {
  // The first fetchOffsets meets "coordinator not available" while __consumer_offsets is created:
  // kafkajs retries it, so its error logs are noise here.
  const kafka = new Kafka({
    clientId: 'flowsentinel-kafka-probe',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(PROBE_TOPIC)) {
      await admin.createTopics({
        topics: [{ topic: PROBE_TOPIC, numPartitions: 1, replicationFactor: 1 }],
        waitForLeaders: true,
      });
    }
    // admin.fetchOffsets does not retry "The coordinator is loading" while __consumer_offsets is created.
    await retryRetriable(() =>
      admin.fetchOffsets({ groupId: `${PROBE_TOPIC}_group`, topics: [PROBE_TOPIC] }),
    );
  } finally {
    await admin.disconnect();
  }
}

/** Runs `fn`, retrying up to `attempts` times while it throws a kafkajs error flagged `retriable`. */
export async function retryRetriable<T>(fn: () => Promise<T>, attempts = 80, delayMs = 250): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const retriable = (e as { retriable?: unknown }).retriable === true;
      if (!retriable || attempt >= attempts) throw e;
      await sleep(delayMs);
    }
  }
}
