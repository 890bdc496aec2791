import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTopicsReady } from '../../scripts/kafka/readiness.js';
import { loadConfig } from '../../src/config/index.js';
import {
  createKafka,
  createKafkaSinks,
  type KafkaClient,
  type KafkaSinks,
  KafkaSource,
  OUTPUT_HEADERS,
  produceRecords,
  readTopic,
} from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging.js';
import { AckTracker } from '../../src/streams/acks.js';
import { createFeatureSpec } from '../../src/streams/feature-spec.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import { type PipelineHandle, runPipeline } from '../../src/streams/pipeline.js';
import type { SourceRecord } from '../../src/streams/types.js';
import { describeKafka, kafkaBrokers, uniqueKafkaName } from '../helpers/kafka.js';
import { scoreAllNormal, waitFor } from '../helpers/test-detectors.js';

const PARTITIONS = 4;
const FIELDS = ['a', 'b'];
const PER_PHASE = 2000;

const text = (bytes: Uint8Array | undefined): string => (bytes ? Buffer.from(bytes).toString('utf8') : '?');

// A little work per batch, so batches overlap the rebalances.
const scoreAll = scoreAllNormal(-2, 5);

interface Instance {
  readonly source: KafkaSource;
  readonly sinks: KafkaSinks;
  readonly handle: PipelineHandle;
  stop(): Promise<number>;
}

describeKafka('Kafka consumer group with two instances', () => {
  const input = uniqueKafkaName('group-in');
  const outputs = {
    anomalies: uniqueKafkaName('group-anomalies'),
    scores: uniqueKafkaName('group-scores'),
    deadLetters: uniqueKafkaName('group-dlq'),
    drift: uniqueKafkaName('group-drift'),
  };
  const groupId = uniqueKafkaName('group');
  let kafka: KafkaClient;
  let admin: Admin;
  const generated: SourceRecord[] = [
    ...generateRecords({
      seed: 3,
      count: 3 * PER_PHASE,
      fields: FIELDS,
      partitions: PARTITIONS,
      entities: 12,
      topic: input,
    }),
  ];
  const phase = (i: number): SourceRecord[] => generated.slice(i * PER_PHASE, (i + 1) * PER_PHASE);

  beforeAll(async () => {
    const config = loadConfig({
      env: {},
      overrides: { features: { fields: FIELDS }, kafka: { brokers: await kafkaBrokers() } },
    });
    kafka = createKafka(config.kafka, {
      logger: createLogger({ level: 'warn', destination: process.stderr }),
    });
    admin = kafka.admin();
    await admin.connect();
    await createTopicsReady(
      admin,
      [input, ...Object.values(outputs)].map((topic) => ({
        topic,
        numPartitions: topic === input ? PARTITIONS : 2,
        configEntries: [{ name: 'retention.ms', value: '-1' }],
      })),
    );
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  async function start(): Promise<Instance> {
    const acks = new AckTracker();
    const source = new KafkaSource({
      client: kafka,
      groupId,
      topics: [input],
      start: 'earliest',
      acks,
      commitIntervalMs: 200,
      heartbeatIntervalMs: 300,
      sessionTimeoutMs: 10_000,
    });
    const sinks = await createKafkaSinks(kafka, outputs);
    const handle = runPipeline({
      source,
      spec: createFeatureSpec({ fields: FIELDS }),
      batch: { maxSize: 100, maxWaitMs: 20 },
      detector: scoreAll,
      sinks,
      acks,
      highWaterMark: 300,
    });
    handle.done.catch(() => undefined);
    return {
      source,
      sinks,
      handle,
      async stop() {
        const summary = await handle.stop();
        await source.close();
        await sinks.close();
        return summary.in;
      },
    };
  }

  it('splits the partitions, hands them over when one instance stops, and leaves nothing unprocessed', async () => {
    await produceRecords(kafka, input, phase(0));
    const a = await start();
    await waitFor(() => a.source.assignment.length === PARTITIONS, 30_000, 'A to own every partition');
    const b = await start();
    await waitFor(
      () =>
        a.source.assignment.length > 0 &&
        b.source.assignment.length > 0 &&
        a.source.assignment.length + b.source.assignment.length === PARTITIONS,
      30_000,
      'A and B to share the partitions',
    );
    const ofA = a.source.assignment.map((tp) => tp.partition);
    const ofB = b.source.assignment.map((tp) => tp.partition);
    expect(new Set([...ofA, ...ofB]).size).toBe(PARTITIONS);

    await produceRecords(kafka, input, phase(1));
    await waitFor(
      () => b.handle.summary().in > 0 && a.handle.summary().in > PER_PHASE / 4,
      30_000,
      'both to consume',
    );
    const inA = await a.stop();
    await waitFor(() => b.source.assignment.length === PARTITIONS, 30_000, "B to take over A's partitions");

    await produceRecords(kafka, input, phase(2));
    await waitFor(
      async () => {
        const ends = await admin.fetchTopicOffsets(input);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [input] });
        const by = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
        return ends.every((e) => by.get(e.partition) === e.high);
      },
      60_000,
      'the group to commit every offset',
    );
    const inB = await b.stop();
    expect(inA + inB).toBeGreaterThanOrEqual(generated.length);

    const scored = await readTopic({ kafka, topic: outputs.scores });
    const seen = new Set(
      scored.map(
        (r) =>
          `${text(r.headers[OUTPUT_HEADERS.sourcePartition])}/${text(r.headers[OUTPUT_HEADERS.sourceOffset])}`,
      ),
    );
    const missing = generated.filter((r) => !seen.has(`${r.partition}/${r.offset}`));
    expect(missing).toEqual([]);
    expect(b.source.stats.joins).toBeGreaterThanOrEqual(2);
  });
});
