/**
 * The local test broker can be halted and restarted on the same data dir and ports
 * (scripts/kafka/broker.ts `halt()` / `restart()`), so tests can simulate a broker outage with the data
 * kept: topics, records and committed offsets survive, clients reconnect to the same address.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type KafkaBroker, startKafkaBroker } from '../../scripts/kafka/broker.js';
import { canConnect, createTopicsReady } from '../../scripts/kafka/readiness.js';
import { produceRecords, readTopic } from '../../src/kafka/index.js';
import { describeKafka, uniqueKafkaName } from '../helpers/kafka.js';
import { committedOffsets, connectTestKafka, sinCosRecords } from '../helpers/kafka-job.js';

describeKafka('local test broker: halt and restart on the same data dir and ports', () => {
  let broker: KafkaBroker;

  beforeAll(async () => {
    broker = await startKafkaBroker({ maxHeapMb: 384 });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('keeps topics, records and committed offsets across a halt, on the same address', async () => {
    const topic = uniqueKafkaName('restart-in');
    const groupId = uniqueKafkaName('restart-group');
    const before = await connectTestKafka(broker.brokers);
    await createTopicsReady(before.admin, [{ topic, numPartitions: 2 }]);
    await produceRecords(before.kafka, topic, sinCosRecords(topic, 0, 100, 2));
    await before.admin.setOffsets({ groupId, topic, partitions: [{ partition: 1, offset: '7' }] });
    await before.close();
    const [host = '', port = ''] = (broker.brokers[0] ?? '').split(':');
    const { pid, brokers, dataDir } = broker;

    await broker.halt();
    expect(broker.halted).toBe(true);
    expect(await canConnect(host, Number(port))).toBe(false);
    await expect(broker.halt()).resolves.toBeUndefined(); // idempotent while halted

    await broker.restart();
    expect(broker.halted).toBe(false);
    expect(broker.pid).not.toBe(pid);
    expect(broker.brokers).toEqual(brokers);
    expect(broker.dataDir).toBe(dataDir);
    await expect(broker.restart()).rejects.toThrow(/halt\(\) it first/);

    const after = await connectTestKafka(broker.brokers);
    try {
      await produceRecords(after.kafka, topic, sinCosRecords(topic, 100, 20, 2));
      const all = await readTopic({ kafka: after.kafka, topic });
      expect(all).toHaveLength(120);
      expect((await committedOffsets(after.admin, groupId, topic)).get(1)).toBe(7n);
    } finally {
      await after.close();
    }
  }, 180_000);
});
