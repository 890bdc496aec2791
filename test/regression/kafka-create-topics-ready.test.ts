/**
 * Regression: a fresh-clone CI run failed kafka-smoke.test.ts in `admin.createTopics({ waitForLeaders:
 * true })` with "This server does not host this topic-partition": kafkajs's leader wait retries only
 * LEADER_NOT_AVAILABLE, and a metadata request right after the creation can answer
 * UNKNOWN_TOPIC_OR_PARTITION. `createTopicsReady` polls the metadata itself, retrying kafkajs's retriable
 * errors (here with a scripted admin; the Kafka tests use it against the real broker).
 */
import { type Admin, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createTopicsReady } from '../../scripts/kafka/readiness.js';

type TopicsAdmin = Pick<Admin, 'createTopics' | 'fetchTopicMetadata'>;
type Metadata = Awaited<ReturnType<Admin['fetchTopicMetadata']>>;

/** An admin whose metadata answers follow `script` (an error is thrown), then stay at the last one. */
function scriptedAdmin(created: boolean, script: (Error | Metadata)[]) {
  const calls = { create: 0, metadata: 0 };
  const admin: TopicsAdmin = {
    createTopics: async () => {
      calls.create++;
      return created;
    },
    fetchTopicMetadata: async () => {
      const step = script[Math.min(calls.metadata, script.length - 1)]!;
      calls.metadata++;
      if (step instanceof Error) throw step;
      return step;
    },
  };
  return { admin, calls };
}

const unknownTopic = (): Error =>
  new KafkaJSProtocolError(
    Object.assign(new Error('This server does not host this topic-partition'), {
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
      code: 3,
      retriable: true,
    }),
  );
const leaders = (...ids: number[]): Metadata => ({
  topics: [
    {
      name: 't',
      partitions: ids.map((leader, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader,
        replicas: [0],
        isr: [0],
      })),
    },
  ],
});

describe('createTopicsReady', () => {
  it('retries an UNKNOWN_TOPIC_OR_PARTITION answer and a partition without a leader until all have one', async () => {
    const { admin, calls } = scriptedAdmin(true, [unknownTopic(), leaders(0, -1), leaders(0, 0)]);
    await expect(createTopicsReady(admin, [{ topic: 't', numPartitions: 2 }], 10, 0)).resolves.toBe(true);
    expect(calls).toEqual({ create: 1, metadata: 3 });
  });

  it('rethrows an error kafkajs does not flag retriable, and gives up after its attempts', async () => {
    const fatal = new KafkaJSProtocolError(
      Object.assign(new Error('no'), { type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false }),
    );
    await expect(createTopicsReady(scriptedAdmin(true, [fatal]).admin, [{ topic: 't' }], 10, 0)).rejects.toBe(
      fatal,
    );
    const never = scriptedAdmin(true, [leaders(-1)]);
    await expect(createTopicsReady(never.admin, [{ topic: 't' }], 4, 0)).rejects.toThrow(
      /no leader yet for t/,
    );
    expect(never.calls.metadata).toBe(4);
  });

  it('resolves false without waiting when the topics already existed', async () => {
    const { admin, calls } = scriptedAdmin(false, [unknownTopic()]);
    await expect(createTopicsReady(admin, [{ topic: 't' }], 10, 0)).resolves.toBe(false);
    expect(calls.metadata).toBe(0);
  });
});
