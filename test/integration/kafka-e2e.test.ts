import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTopicsReady } from '../../scripts/kafka/readiness.js';
import { type AppConfig, loadConfig } from '../../src/config/index.js';
import {
  createKafka,
  createKafkaSinks,
  type KafkaClient,
  KafkaSource,
  OUTPUT_HEADERS,
  produceRecords,
  readTopic,
} from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging.js';
import { AckTracker } from '../../src/streams/acks.js';
import { decodeRecord } from '../../src/streams/decode.js';
import { createFeatureSpec, type FeatureSpec } from '../../src/streams/feature-spec.js';
import { ANOMALY_HEADER, generateRecords, MALFORMED_HEADER } from '../../src/streams/generator-source.js';
import { runPipeline } from '../../src/streams/pipeline.js';
import type { BatchDetector, FeatureEvent, ScoredEvent, SourceRecord } from '../../src/streams/types.js';
import { describeKafka, kafkaBrokers, uniqueKafkaName } from '../helpers/kafka.js';
import { scoredAs, waitFor } from '../helpers/test-detectors.js';

const COUNT = 20_000;
const PARTITIONS = 4;
const FIELDS = ['f0', 'f1', 'f2', 'f3'];
const HIGH_WATER_MARK = 2048;

const text = (bytes: Uint8Array | null | undefined): string | undefined =>
  bytes === null || bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');
const hex = (bytes: Uint8Array | null | undefined): string =>
  bytes === null || bytes === undefined ? 'null' : Buffer.from(bytes).toString('hex');
const refKey = (partition: number | string, offset: string): string => `${partition}/${offset}`;
const featureKey = (features: Float32Array): string => Array.from(features).join(',');

/** Flags exactly the events whose feature vectors are in `flagged` (no headers involved), so assertions are exact. */
class FeatureSetDetector implements BatchDetector {
  private version = 0;
  constructor(private readonly flagged: ReadonlySet<string>) {}

  process(batch: readonly FeatureEvent[]): Promise<readonly ScoredEvent[]> {
    this.version++;
    return Promise.resolve(
      batch.map((e) => {
        const isAnomaly = this.flagged.has(featureKey(e.features));
        return scoredAs(e, { logLikelihood: isAnomaly ? -40 : -4, isAnomaly, modelVersion: this.version });
      }),
    );
  }
}

describeKafka('Kafka end to end: KafkaSource → detector → KafkaSinks', () => {
  const input = uniqueKafkaName('e2e-in');
  const outputs = {
    anomalies: uniqueKafkaName('e2e-anomalies'),
    scores: uniqueKafkaName('e2e-scores'),
    deadLetters: uniqueKafkaName('e2e-dlq'),
    drift: uniqueKafkaName('e2e-drift'),
  };
  const groupId = uniqueKafkaName('e2e-group');
  let config: AppConfig;
  let kafka: KafkaClient;
  let admin: Admin;
  let spec: FeatureSpec;
  let generated: SourceRecord[];

  beforeAll(async () => {
    config = loadConfig({
      env: {},
      overrides: {
        features: { fields: FIELDS, maxRecordBytes: 4096 },
        kafka: {
          brokers: await kafkaBrokers(),
          clientId: 'kafka-e2e-test',
          groupId,
          topics: [input],
          outputs,
        },
      },
    });
    kafka = createKafka(config.kafka, {
      logger: createLogger({ level: 'warn', destination: process.stderr }),
    });
    admin = kafka.admin();
    await admin.connect();
    const retention = [{ name: 'retention.ms', value: '-1' }];
    await createTopicsReady(admin, [
      { topic: input, numPartitions: PARTITIONS, configEntries: retention },
      ...Object.values(outputs).map((topic) => ({ topic, numPartitions: 2, configEntries: retention })),
    ]);
    spec = createFeatureSpec({ fields: FIELDS, maxRecordBytes: 4096 });
    generated = [
      ...generateRecords({
        seed: 2024,
        count: COUNT,
        fields: FIELDS,
        partitions: PARTITIONS,
        entities: 16,
        anomalyRate: 0.01,
        malformedRate: 0.01,
        oversizeBytes: 5000,
        topic: input,
      }),
    ];
    // A fresh topic and the generator both number offsets from 0 per partition, so refs line up.
    expect(await produceRecords(kafka, input, generated, { partitioning: 'preserve' })).toBe(COUNT);
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  it('scores every event, publishes every injected anomaly, dead-letters every malformed record and commits to the end', async () => {
    const anomalies = generated.filter((r) => r.headers[ANOMALY_HEADER] !== undefined);
    const malformed = generated.filter((r) => r.headers[MALFORMED_HEADER] !== undefined);
    expect(anomalies.length).toBeGreaterThan(100);
    expect(malformed.length).toBeGreaterThan(100);
    const flagged = new Set(
      anomalies.map((r) => {
        const d = decodeRecord(r, spec);
        if (!d.ok) throw new Error('an injected anomaly must decode');
        return featureKey(d.event.features);
      }),
    );

    const acks = new AckTracker();
    const source = new KafkaSource({
      client: kafka,
      groupId,
      topics: [input],
      start: 'earliest',
      acks,
      commitIntervalMs: 200,
      heartbeatIntervalMs: 500,
      sessionTimeoutMs: 10_000,
    });
    const sinks = await createKafkaSinks(kafka, config.kafka.outputs);
    const handle = runPipeline({
      source,
      spec,
      batch: { maxSize: 256, maxWaitMs: 50 },
      detector: new FeatureSetDetector(flagged),
      sinks,
      acks,
      highWaterMark: HIGH_WATER_MARK,
      writesInFlight: 1, // `run`'s default (kafka.writesInFlight): the next batch is scored during the writes
    });
    handle.done.catch(() => undefined);
    try {
      await waitFor(
        () => handle.summary().scored + handle.summary().deadLettered === COUNT,
        90_000,
        'all records',
      );
    } finally {
      await handle.stop();
      await source.close();
      await sinks.close();
    }
    const summary = await handle.done;
    expect(summary.in).toBe(COUNT);
    expect(summary.scored + summary.deadLettered).toBe(COUNT);
    expect(summary.deadLettered).toBe(malformed.length);
    expect(summary.anomalies).toBe(anomalies.length);
    expect(summary.maxInFlight).toBeLessThanOrEqual(HIGH_WATER_MARK);
    expect(acks.pending).toBe(0);

    const [published, dlq, scores] = await Promise.all([
      readTopic({ kafka, topic: outputs.anomalies }),
      readTopic({ kafka, topic: outputs.deadLetters }),
      readTopic({ kafka, topic: outputs.scores }),
    ]);
    const sourceRef = (r: SourceRecord): string =>
      refKey(
        text(r.headers[OUTPUT_HEADERS.sourcePartition]) ?? '?',
        text(r.headers[OUTPUT_HEADERS.sourceOffset]) ?? '?',
      );

    expect(new Set(published.map(sourceRef))).toEqual(
      new Set(anomalies.map((r) => refKey(r.partition, r.offset))),
    );
    for (const r of published) {
      const body = JSON.parse(text(r.value) ?? 'null') as ScoredEvent;
      expect(body.isAnomaly).toBe(true);
      expect(text(r.key)).toBe(body.key);
      expect(text(r.headers[OUTPUT_HEADERS.reason])).toBe('threshold');
      expect(Number(text(r.headers[OUTPUT_HEADERS.modelVersion]))).toBeGreaterThan(0);
    }

    const byRef = new Map(generated.map((r) => [refKey(r.partition, r.offset), r]));
    expect(new Set(dlq.map(sourceRef))).toEqual(new Set(malformed.map((r) => refKey(r.partition, r.offset))));
    for (const r of dlq) {
      const original = byRef.get(sourceRef(r));
      expect(text(r.headers[OUTPUT_HEADERS.dlqReason])).toBe(text(original?.headers[MALFORMED_HEADER]));
      expect(text(r.headers[OUTPUT_HEADERS.sourceTopic])).toBe(input);
      expect(r.key).toEqual(original?.key);
      expect(hex(r.value)).toBe(hex(original?.value));
    }

    expect(scores.length).toBe(summary.scored);
    expect(new Set(scores.map(sourceRef)).size).toBe(summary.scored);
    // Writes stay in scoring order: within an output partition, each input partition's offsets increase.
    const last = new Map<string, number>();
    for (const r of scores) {
      const key = `${r.partition}/${text(r.headers[OUTPUT_HEADERS.sourcePartition])}`;
      const offset = Number(text(r.headers[OUTPUT_HEADERS.sourceOffset]));
      expect(offset).toBeGreaterThan(last.get(key) ?? -1);
      last.set(key, offset);
    }

    const ends = await admin.fetchTopicOffsets(input);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [input] });
    const endBy = Object.fromEntries(ends.map((p) => [p.partition, p.high]));
    const committedBy = Object.fromEntries((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
    expect(committedBy).toEqual(endBy);
  });
});
