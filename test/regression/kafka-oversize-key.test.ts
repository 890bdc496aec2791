/**
 * Regression (issue 13, item 1): one record with a 600 kB entity key froze the event loop for ~37 s in
 * kafkajs's BigInt murmur2, then its output hit MESSAGE_TOO_LARGE and the process exited 1 on every
 * restart, with the partition's commit stuck. Against the real broker: the big key is dead-lettered as
 * `oversize_key`, an output the topic refuses is dead-lettered as `output_rejected` with the broker's
 * reason, and every later record is still scored and committed.
 */
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { runKafkaDetector } from '../../src/job/kafka.js';
import {
  createKafka,
  type KafkaClient,
  OUTPUT_HEADERS,
  produceRecords,
  readTopic,
} from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging.js';
import type { SourceRecord } from '../../src/streams/types.js';
import { describeKafka, kafkaBrokers, uniqueKafkaName } from '../helpers/kafka.js';
import { waitFor } from '../helpers/test-detectors.js';

const PARTITIONS = 2;
/** Recent event times: the broker deletes records older than its 7-day default retention. */
const NOW = Date.now();
const BIG_KEY_BYTES = 600_000;
/** Under `features.maxKeyBytes` (raised to 40 kB here), but its scored event exceeds the scores topic's limit. */
const LONG_KEY_BYTES = 30_000;
const MAX_KEY_BYTES = 40_000;
/** Above a normal batch of scored events per partition (kafkajs sends one record batch per partition). */
const SCORES_MAX_MESSAGE_BYTES = 50_000;

const text = (bytes: Uint8Array | null | undefined): string =>
  bytes === null || bytes === undefined ? '' : Buffer.from(bytes).toString('utf8');
const header = (r: SourceRecord, name: string): string => text(r.headers[name]);
const sourceRef = (r: SourceRecord): string =>
  `${header(r, OUTPUT_HEADERS.sourcePartition)}/${header(r, OUTPUT_HEADERS.sourceOffset)}`;

function input(topic: string): SourceRecord[] {
  const enc = new TextEncoder();
  return Array.from({ length: 600 }, (_, i) => {
    const partition = i % PARTITIONS;
    let key = `k${i % 7}`;
    if (i === 150) key = 'x'.repeat(BIG_KEY_BYTES);
    if (i === 151) key = 'y'.repeat(LONG_KEY_BYTES);
    const value = { a: Math.sin(i), b: Math.cos(i * 0.7), c: (i % 13) / 13 };
    return {
      topic,
      partition,
      offset: '0',
      timestamp: NOW + i,
      key: enc.encode(key),
      headers: { seq: enc.encode(String(i)) },
      value: enc.encode(JSON.stringify(value)),
    };
  });
}

describeKafka('regression: a 600 kB key and an output too large for its topic', () => {
  let brokers: string[];
  let kafka: KafkaClient;
  let admin: Admin;

  beforeAll(async () => {
    brokers = await kafkaBrokers();
    const config = loadConfig({ env: {}, overrides: { features: { fields: ['a'] }, kafka: { brokers } } });
    kafka = createKafka(config.kafka, {
      logger: createLogger({ level: 'warn', destination: process.stderr }),
    });
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  it('dead-letters the big key (oversize_key) and the rejected output (output_rejected), and scores and commits every later record', async () => {
    const t = {
      input: uniqueKafkaName('bigkey-in'),
      anomalies: uniqueKafkaName('bigkey-anomalies'),
      scores: uniqueKafkaName('bigkey-scores'),
      deadLetters: uniqueKafkaName('bigkey-dlq'),
      drift: uniqueKafkaName('bigkey-drift'),
    };
    const groupId = uniqueKafkaName('bigkey-group');
    await admin.createTopics({
      topics: [
        { topic: t.input, numPartitions: PARTITIONS },
        {
          topic: t.scores,
          numPartitions: 2,
          configEntries: [{ name: 'max.message.bytes', value: String(SCORES_MAX_MESSAGE_BYTES) }],
        },
        ...[t.anomalies, t.deadLetters, t.drift].map((topic) => ({ topic, numPartitions: 2 })),
      ],
      waitForLeaders: true,
    });
    const records = input(t.input);
    await produceRecords(kafka, t.input, records, { batchSize: 50 });
    const config = loadConfig({
      env: {},
      overrides: {
        features: { fields: ['a', 'b', 'c'], maxKeyBytes: MAX_KEY_BYTES },
        model: { type: 'realnvp', layers: 2, hidden: 8 },
        training: { batchSize: 32, replayReservoir: { size: 200 } },
        warmup: { events: 100 },
        threshold: { policy: 'static', logLikelihood: -30 },
        batching: { maxSize: 40, maxWaitMs: 20, highWaterMark: 200 },
        metrics: { enabled: false },
        kafka: {
          brokers,
          clientId: 'bigkey-test',
          groupId,
          topics: [t.input],
          start: 'earliest',
          outputs: { anomalies: t.anomalies, scores: t.scores, deadLetters: t.deadLetters, drift: t.drift },
        },
        log: { level: 'warn' },
      },
    });
    const stop = new AbortController();
    const run = runKafkaDetector({
      config,
      logger: createLogger({ level: 'error', destination: process.stderr }),
      signal: stop.signal,
      // A loop frozen past the session timeout would get the member evicted (a rebalance): see below.
      source: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, commitIntervalMs: 200 },
    });
    run.catch(() => undefined);
    const fullyCommitted = async (): Promise<boolean> => {
      const ends = await admin.fetchTopicOffsets(t.input);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [t.input] });
      const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
      return ends.every((e) => at.get(e.partition) === e.high);
    };
    await waitFor(fullyCommitted, 90_000, 'every input offset to be committed');
    stop.abort();
    const result = await run;

    expect(result.summary.in).toBe(records.length);
    expect(result.summary.deadLetteredByReason.oversize_key).toBe(1);
    // The job never stalled long enough to be evicted from the group (the BigInt hash froze it ~37 s).
    expect(result.consumer.rebalances).toBe(0);

    const dead = await readTopic({ kafka, topic: t.deadLetters });
    const seqOf = (r: SourceRecord): number => {
      const [p = '', o = ''] = sourceRef(r).split('/');
      return Number(o) * PARTITIONS + Number(p);
    };
    const bySeq = new Map(dead.map((r) => [seqOf(r), r]));
    expect([...bySeq.keys()].sort((a, b) => a - b)).toEqual([150, 151]);
    const bigKey = bySeq.get(150)!;
    expect(header(bigKey, OUTPUT_HEADERS.dlqReason)).toBe('oversize_key');
    expect(header(bigKey, OUTPUT_HEADERS.dlqDetail)).toMatch(/600000 bytes, limit is 40000/);
    expect(bigKey.key?.byteLength).toBe(BIG_KEY_BYTES); // the original key and headers are kept
    expect(header(bigKey, 'seq')).toBe('150');
    const rejected = bySeq.get(151)!;
    expect(header(rejected, OUTPUT_HEADERS.dlqReason)).toBe('output_rejected');
    expect(header(rejected, OUTPUT_HEADERS.dlqDetail)).toMatch(/^scores: MESSAGE_TOO_LARGE/);
    expect(text(rejected.key)).toBe('y'.repeat(LONG_KEY_BYTES));

    // Every input offset has an output: a score, or a dead letter (151 has none in scores).
    const scores = await readTopic({ kafka, topic: t.scores });
    const refs = new Set([...scores, ...dead].map(sourceRef));
    const missing = records.filter((_, i) => !refs.has(`${i % PARTITIONS}/${Math.floor(i / PARTITIONS)}`));
    expect(missing).toEqual([]);
    // The rejected write's batch is written again in halves, so events of it that had reached the other
    // partition appear twice (at least once); nothing else repeats.
    const distinct = new Set(scores.map(sourceRef));
    expect(distinct.size).toBe(records.length - 2);
    expect(scores.length - distinct.size).toBeLessThanOrEqual(config.batching.maxSize);
  });
});
