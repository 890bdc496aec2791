/**
 * Regression (issue 14, item 7): the Kafka job ran at ~600 events/s with a backlog. At every full credit
 * gate the source paused its topics and dropped the rest of the fetched batch; while every partition is
 * paused, kafkajs's fetch loop sleeps a whole `maxWaitTimeInMs` (500 ms) and a resume does not wake it.
 * So each fetch delivered at most `highWaterMark` records, then the pipeline sat idle ~90 % of the time.
 * Now the source waits for credit inside the fetched batch and pauses only after `pauseAfterMs`.
 *
 * Counted, not timed: how many fetched batches a backlog takes and how many records one batch delivers
 * (before the fix never more than the high-water mark, and at least COUNT / highWaterMark batches).
 */
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
import { describeKafka, kafkaBrokers, uniqueKafkaName } from '../helpers/kafka.js';
import { scoreAllNormal, waitFor } from '../helpers/test-detectors.js';

const COUNT = 5000;
const HIGH_WATER_MARK = 300;
const BATCH = 100;

interface ChurnRun {
  /** Fetched batches that emitted at least one record. */
  readonly batches: number;
  /** Most records one fetched batch emitted. */
  readonly maxPerBatch: number;
  readonly fetchPauses: number;
  readonly creditPauses: number;
  readonly maxInFlight: number;
  readonly committed: number;
}

describeKafka('Kafka source fetch churn under backpressure', () => {
  const input = uniqueKafkaName('churn-in');
  const outputs = {
    anomalies: uniqueKafkaName('churn-anomalies'),
    deadLetters: uniqueKafkaName('churn-dlq'),
    drift: uniqueKafkaName('churn-drift'),
  };
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
        numPartitions: 1,
        configEntries: [{ name: 'retention.ms', value: '-1' }],
      })),
      waitForLeaders: true,
    });
    await produceRecords(
      kafka,
      input,
      generateRecords({ seed: 14, count: COUNT, fields: ['x'], partitions: 1, topic: input }),
    );
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  /** Consumes `count` records of the backlog with a fresh group; counts batches and pauses. */
  async function consume(pauseAfterMs: number, count: number, delayMs = 0): Promise<ChurnRun> {
    const groupId = uniqueKafkaName('churn-group');
    const acks = new AckTracker();
    let batches = 0;
    let maxPerBatch = 0;
    let creditPauses = 0;
    const source = new KafkaSource({
      client: kafka,
      groupId,
      topics: [input],
      start: 'earliest',
      acks,
      commitIntervalMs: 100,
      pauseAfterMs,
      observer: {
        fetched: ({ emitted }) => {
          if (emitted > 0) batches++;
          maxPerBatch = Math.max(maxPerBatch, emitted);
        },
        paused: () => creditPauses++,
      },
    });
    const sinks = await createKafkaSinks(kafka, outputs);
    const handle = runPipeline({
      source,
      spec: createFeatureSpec({ fields: ['x'] }),
      batch: { maxSize: BATCH, maxWaitMs: 20 },
      detector: scoreAllNormal(-1, delayMs),
      sinks,
      acks,
      highWaterMark: HIGH_WATER_MARK,
    });
    handle.done.catch(() => undefined);
    try {
      await waitFor(() => handle.summary().scored >= count, 60_000, `${count} records scored`);
    } finally {
      await handle.stop();
      await source.close();
      await sinks.close();
    }
    const summary = await handle.done;
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [input] });
    const committed = (offsets?.partitions ?? []).reduce((sum, p) => sum + Number(p.offset), 0);
    const { fetchPauses } = source.stats;
    return { batches, maxPerBatch, fetchPauses, creditPauses, maxInFlight: summary.maxInFlight, committed };
  }

  it('delivers a backlog in few fetched batches, not one fetch (and one 500 ms sleep) per high-water mark', async () => {
    // A stall longer than a minute would be needed to pause fetching: the counts below do not depend on speed.
    const run = await consume(60_000, COUNT);
    expect(run.creditPauses).toBeGreaterThan(0); // the gate did run out of credit
    expect(run.fetchPauses).toBe(0);
    expect(run.maxPerBatch).toBeGreaterThan(HIGH_WATER_MARK);
    expect(run.batches).toBeLessThan(COUNT / HIGH_WATER_MARK / 2);
    expect(run.maxInFlight).toBeLessThanOrEqual(HIGH_WATER_MARK);
    expect(run.committed).toBe(COUNT);
  });

  it('still pauses fetching and drops the rest of the batch when the wait runs out (pauseAfterMs 0)', async () => {
    // The detector answers after a timer, so credits cannot come back within the zero-length wait.
    const run = await consume(0, 1000, 20);
    expect(run.fetchPauses).toBeGreaterThan(0);
    expect(run.maxPerBatch).toBeLessThanOrEqual(HIGH_WATER_MARK);
    expect(run.maxInFlight).toBeLessThanOrEqual(HIGH_WATER_MARK);
    expect(run.committed).toBeGreaterThanOrEqual(1000);
  });
});
