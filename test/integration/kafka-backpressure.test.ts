import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import {
  createKafka,
  createKafkaSinks,
  type KafkaClient,
  KafkaSource,
  produceRecords,
} from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging.js';
import { AckTracker } from '../../src/streams/acks.js';
import { createFeatureSpec } from '../../src/streams/feature-spec.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import { runPipeline } from '../../src/streams/pipeline.js';
import type { BatchDetector } from '../../src/streams/types.js';
import { describeKafka, kafkaBrokers, uniqueKafkaName } from '../helpers/kafka.js';
import { scoreAllNormal, waitFor } from '../helpers/test-detectors.js';

const COUNT = 2000;
const HIGH_WATER_MARK = 100;
const BATCH = 50;
/** The broker's minimum; the run below lasts longer than this, paused most of the time. */
const SESSION_TIMEOUT_MS = 6000;

/** Takes `delayMs` per batch, far slower than Kafka delivers. */
function slowDetector(delayMs: number): BatchDetector {
  return scoreAllNormal(-1, delayMs);
}

describeKafka('Kafka backpressure with a slow detector', () => {
  const input = uniqueKafkaName('bp-in');
  const outputs = {
    anomalies: uniqueKafkaName('bp-anomalies'),
    deadLetters: uniqueKafkaName('bp-dlq'),
    drift: uniqueKafkaName('bp-drift'),
  };
  const groupId = uniqueKafkaName('bp-group');
  let kafka: KafkaClient;
  let admin: Admin;

  beforeAll(async () => {
    const config = loadConfig({
      env: {},
      overrides: { features: { fields: ['x'] }, kafka: { brokers: await kafkaBrokers() } },
    });
    kafka = createKafka(config.kafka, {
      logger: createLogger({ level: 'warn', destination: process.stderr }),
    });
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [input, ...Object.values(outputs)].map((topic) => ({
        topic,
        numPartitions: 2,
        configEntries: [{ name: 'retention.ms', value: '-1' }],
      })),
      waitForLeaders: true,
    });
    await produceRecords(
      kafka,
      input,
      generateRecords({ seed: 8, count: COUNT, fields: ['x'], partitions: 2, topic: input }),
    );
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  it('keeps in-flight records under the high-water mark by pausing, without the member being kicked out', async () => {
    const acks = new AckTracker();
    const events = { joins: 0, rebalancing: 0, paused: 0, resumed: 0 };
    let maxPending = 0;
    const source = new KafkaSource({
      client: kafka,
      groupId,
      topics: [input],
      start: 'earliest',
      acks,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: 1000,
      commitIntervalMs: 250,
      observer: {
        groupJoin: () => events.joins++,
        rebalancing: () => events.rebalancing++,
        paused: () => events.paused++,
        resumed: () => events.resumed++,
      },
    });
    const sinks = await createKafkaSinks(kafka, outputs);
    const started = Date.now();
    const handle = runPipeline({
      source,
      spec: createFeatureSpec({ fields: ['x'] }),
      batch: { maxSize: BATCH, maxWaitMs: 20 },
      detector: slowDetector(150),
      sinks,
      acks,
      highWaterMark: HIGH_WATER_MARK,
      onBatch: () => {
        maxPending = Math.max(maxPending, acks.pending);
      },
    });
    handle.done.catch(() => undefined);
    try {
      await waitFor(() => handle.summary().scored === COUNT, 60_000, 'every record');
    } finally {
      await handle.stop();
      await source.close();
      await sinks.close();
    }
    const summary = await handle.done;
    // The slow run outlasted the session timeout while paused most of the time.
    expect(Date.now() - started).toBeGreaterThan(SESSION_TIMEOUT_MS);
    expect(summary.in).toBe(COUNT);
    expect(summary.maxInFlight).toBeLessThanOrEqual(HIGH_WATER_MARK);
    expect(maxPending).toBeLessThanOrEqual(HIGH_WATER_MARK);
    expect(events.paused).toBeGreaterThan(5);
    expect(events.resumed).toBeGreaterThan(5);
    expect(events).toMatchObject({ joins: 1, rebalancing: 0 });
    expect(source.stats.crashes).toBe(0);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [input] });
    const total = (committed?.partitions ?? []).reduce((sum, p) => sum + Number(p.offset), 0);
    expect(total).toBe(COUNT);
  });
});
