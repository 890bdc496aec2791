import { type Admin, type IHeaders, Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTopicsReady } from '../../scripts/kafka/readiness.js';
import { describeKafka, kafkaBrokers, uniqueKafkaName } from '../helpers/kafka.js';

const COUNT = 100;
const PARTITIONS = 3;

interface Received {
  readonly partition: number;
  readonly key: string;
  readonly value: string;
  readonly headers: Record<string, string>;
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name] = String(value);
  return out;
}

describeKafka('Kafka smoke test against a real broker', () => {
  let kafka: Kafka;
  let admin: Admin;

  beforeAll(async () => {
    kafka = new Kafka({
      clientId: 'kafka-smoke-test',
      brokers: await kafkaBrokers(),
      logLevel: logLevel.WARN,
    });
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  it('round-trips 100 keyed messages with headers through a consumer group and commits to the end', async () => {
    const topic = uniqueKafkaName('smoke');
    const groupId = uniqueKafkaName('smoke-group');
    expect(await createTopicsReady(admin, [{ topic, numPartitions: PARTITIONS }])).toBe(true);

    const sent = Array.from({ length: COUNT }, (_, i) => ({
      key: `key-${i % 10}`,
      value: JSON.stringify({ i }),
      headers: { 'x-index': String(i), 'x-trace': `trace-${i}` },
    }));
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      await producer.send({ topic, messages: sent });
    } finally {
      await producer.disconnect();
    }

    const received: Received[] = [];
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ partition, message }) => {
              received.push({
                partition,
                key: message.key?.toString() ?? '',
                value: message.value?.toString() ?? '',
                headers: headerStrings(message.headers),
              });
              if (received.length === COUNT) resolve();
            },
          })
          .catch(reject);
      });
      // stop() lets the in-flight batch finish, including its auto-commit.
      await consumer.stop();
    } finally {
      await consumer.disconnect();
    }

    const byIndex = [...received].sort((a, b) => Number(a.headers['x-index']) - Number(b.headers['x-index']));
    expect(byIndex.map((r) => ({ key: r.key, value: r.value, headers: r.headers }))).toEqual(sent);
    // Same key → same partition, and the keys spread over more than one partition.
    const partitionOfKey = new Map<string, Set<number>>();
    for (const r of received)
      partitionOfKey.set(r.key, (partitionOfKey.get(r.key) ?? new Set()).add(r.partition));
    expect([...partitionOfKey.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set(received.map((r) => r.partition)).size).toBeGreaterThan(1);

    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const endByPartition = Object.fromEntries(ends.map((p) => [p.partition, p.high]));
    const committedByPartition = Object.fromEntries(
      (committed?.partitions ?? []).map((p) => [p.partition, p.offset]),
    );
    expect(committedByPartition).toEqual(endByPartition);
    expect(ends.reduce((sum, p) => sum + Number(p.high), 0)).toBe(COUNT);
  });
});
