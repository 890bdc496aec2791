/**
 * Regression (issue 13, item 1): one record with a 600 kB entity key froze the event loop for ~37 s in
 * kafkajs's BigInt murmur2, then its output hit MESSAGE_TOO_LARGE and the process exited 1 on every
 * restart, with the partition's commit stuck. Against the real broker: the big key is dead-lettered as
 * `oversize_key`, an output the topic refuses is dead-lettered as `output_rejected` with the broker's
 * reason, and every later record is still scored and committed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { runKafkaDetector } from '../../src/job/kafka.js';
import { OUTPUT_HEADERS, produceRecords, readTopic } from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging.js';
import type { SourceRecord } from '../../src/streams/types.js';
import { describeKafka } from '../helpers/kafka.js';
import {
  connectTestKafka,
  createJobTopics,
  fullyCommitted,
  groupName,
  jobTopicNames,
  type KafkaTestContext,
  sourceRef,
  text,
  waitFor,
} from '../helpers/kafka-job.js';

const PARTITIONS = 2;
/** Recent event times: the broker deletes records older than its 7-day default retention. */
const NOW = Date.now();
const BIG_KEY_BYTES = 600_000;
/** Under `features.maxKeyBytes` (raised to 40 kB here), but its scored event exceeds the scores topic's limit. */
const LONG_KEY_BYTES = 30_000;
const MAX_KEY_BYTES = 40_000;
/** Above a normal batch of scored events per partition (kafkajs sends one record batch per partition). */
const SCORES_MAX_MESSAGE_BYTES = 50_000;

const header = (r: SourceRecord, name: string): string => text(r.headers[name]);

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
  let k: KafkaTestContext;

  beforeAll(async () => {
    k = await connectTestKafka();
  });

  afterAll(async () => {
    await k?.close();
  });

  it('dead-letters the big key (oversize_key) and the rejected output (output_rejected), and scores and commits every later record', async () => {
    const t = jobTopicNames('bigkey');
    const groupId = groupName('bigkey');
    await createJobTopics(k.admin, t, {
      inputPartitions: PARTITIONS,
      outputPartitions: 2,
      configs: {
        [t.outputs.scores]: [{ name: 'max.message.bytes', value: String(SCORES_MAX_MESSAGE_BYTES) }],
      },
    });
    const records = input(t.input);
    await produceRecords(k.kafka, t.input, records, { batchSize: 50 });
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
          brokers: k.brokers,
          clientId: 'bigkey-test',
          groupId,
          topics: [t.input],
          start: 'earliest',
          outputs: t.outputs,
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
    await waitFor(
      () => fullyCommitted(k.admin, groupId, t.input),
      90_000,
      'every input offset to be committed',
    );
    stop.abort();
    const result = await run;

    expect(result.summary.in).toBe(records.length);
    expect(result.summary.deadLetteredByReason.oversize_key).toBe(1);
    // The job never stalled long enough to be evicted from the group (the BigInt hash froze it ~37 s).
    expect(result.consumer.rebalances).toBe(0);

    const dead = await readTopic({ kafka: k.kafka, topic: t.outputs.deadLetters });
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
    const scores = await readTopic({ kafka: k.kafka, topic: t.outputs.scores });
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
