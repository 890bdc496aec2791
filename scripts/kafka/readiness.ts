import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, type ITopicConfig, Kafka, logLevel } from 'kafkajs';

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
      await createTopicsReady(admin, [{ topic: PROBE_TOPIC, numPartitions: 1, replicationFactor: 1 }]);
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

/**
 * Creates `topics` and waits until every partition of each has a leader. Resolves as
 * `admin.createTopics`: true when it created them, false when they already existed (then it does not
 * wait). kafkajs's own `waitForLeaders` retries only LEADER_NOT_AVAILABLE, but right after a creation a
 * metadata request can also answer UNKNOWN_TOPIC_OR_PARTITION (a fresh-clone CI run failed
 * kafka-smoke.test.ts so); this polls the metadata itself and retries every error kafkajs flags
 * `retriable`, for at most `attempts` × `delayMs`.
 */
export async function createTopicsReady(
  admin: Pick<Admin, 'createTopics' | 'fetchTopicMetadata'>,
  topics: ITopicConfig[],
  attempts = 120,
  delayMs = 250,
): Promise<boolean> {
  const created = await admin.createTopics({ topics, waitForLeaders: false });
  if (!created) return false;
  const names = topics.map((t) => t.topic);
  await retryRetriable(
    async () => {
      const meta = await admin.fetchTopicMetadata({ topics: names });
      const waiting = meta.topics.filter(
        (t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0),
      );
      if (waiting.length > 0) {
        const err = new Error(`no leader yet for ${waiting.map((t) => t.name).join(', ')}`);
        throw Object.assign(err, { retriable: true });
      }
    },
    attempts,
    delayMs,
  );
  return true;
}
