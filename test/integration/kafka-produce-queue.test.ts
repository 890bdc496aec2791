/**
 * One produce request per micro-batch for all output topics (issue 14, item 7): `ProduceQueue` with a
 * recording sender (order, grouping, per-write outcomes), then `createKafkaSinks` against the real broker
 * (requests counted from kafkajs's instrumentation events, outputs read back, a topic that refuses a
 * record failing only its own write).
 */
import type { Message, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopicsReady } from '../../scripts/kafka/readiness.js';
import { KafkaError } from '../../src/kafka/errors.js';
import {
  createKafkaSinks,
  type KafkaClient,
  OUTPUT_HEADERS,
  readTopic,
  recordRejection,
} from '../../src/kafka/index.js';
import { ProduceQueue, type ProduceQueueSender, type TopicWrite } from '../../src/kafka/produce-queue.js';
import type { ScoredEvent } from '../../src/streams/types.js';
import { describeKafka, uniqueKafkaName } from '../helpers/kafka.js';
import { connectTestKafka, type KafkaTestContext, text } from '../helpers/kafka-job.js';

const msgs = (...values: string[]): Message[] => values.map((value) => ({ value }));
const names = (w: readonly TopicWrite[]): string[] =>
  w.map((x) => `${x.topic}:${x.messages.map((m) => String(m.value)).join(',')}`);

/** A sender that records what it was asked to send and fails as `fail` says. */
function recordingSender(fail: (writes: readonly TopicWrite[]) => unknown = () => undefined) {
  const requests: string[][] = [];
  const sender: ProduceQueueSender = {
    sendTogether: async (writes) => {
      requests.push(['together', ...names(writes)]);
      const err = fail(writes);
      if (err !== undefined) throw err;
    },
    sendAlone: async (write) => {
      requests.push(['alone', ...names([write])]);
      const err = fail([write]);
      if (err !== undefined) throw err;
    },
  };
  return { sender, requests };
}

const settled = (p: Promise<void>): Promise<string> =>
  p.then(
    () => 'ok',
    (err: unknown) => `rejected: ${err instanceof Error ? err.message : String(err)}`,
  );

describe('ProduceQueue', () => {
  it('sends the writes of one tick as one request, in order, and the next ones after it', async () => {
    const { sender, requests } = recordingSender();
    const q = new ProduceQueue(500, sender);
    const first = [
      q.push('anomalies', msgs('a1')),
      q.push('scores', msgs('s1', 's2')),
      q.push('drift', msgs('d1')),
    ];
    await Promise.all(first);
    await Promise.all([q.push('anomalies', msgs('a2')), q.push('scores', msgs('s3'))]);
    expect(requests).toEqual([
      ['together', 'anomalies:a1', 'scores:s1,s2', 'drift:d1'],
      ['together', 'anomalies:a2', 'scores:s3'],
    ]);
  });

  it('queues writes made while a request is in flight and sends them together afterwards', async () => {
    const requests: string[][] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const q = new ProduceQueue(500, {
      sendTogether: async (writes) => {
        requests.push(names(writes));
      },
      sendAlone: async (write) => {
        requests.push(names([write]));
        if (requests.length === 1) await held;
      },
    });
    const a = q.push('scores', msgs('s1'));
    await Promise.resolve(); // the first request is now in flight
    const later = [q.push('scores', msgs('s2')), q.push('anomalies', msgs('a1'))];
    expect(requests).toEqual([['scores:s1']]);
    release();
    await Promise.all([a, ...later]);
    expect(requests).toEqual([['scores:s1'], ['scores:s2', 'anomalies:a1']]);
  });

  it('never puts more than maxMessages in one request; a bigger write goes alone', async () => {
    const { sender, requests } = recordingSender();
    const q = new ProduceQueue(3, sender);
    await Promise.all([
      q.push('a', msgs('1', '2')),
      q.push('b', msgs('3')),
      q.push('c', msgs('4')),
      q.push('d', msgs('5', '6', '7', '8')),
      q.push('e', msgs('9')),
    ]);
    expect(requests).toEqual([
      ['together', 'a:1,2', 'b:3'],
      ['alone', 'c:4'],
      ['alone', 'd:5,6,7,8'],
      ['alone', 'e:9'],
    ]);
  });

  it('after a request fails for good, sends its writes one by one so only the refusing write fails', async () => {
    const tooLarge = new KafkaError('producing to scores: MESSAGE_TOO_LARGE', 'config');
    const { sender, requests } = recordingSender((writes) =>
      writes.some((w) => w.topic === 'scores') ? tooLarge : undefined,
    );
    const q = new ProduceQueue(500, sender);
    const outcomes = await Promise.all([
      settled(q.push('anomalies', msgs('a1'))),
      settled(q.push('scores', msgs('s1'))),
      settled(q.push('drift', msgs('d1'))),
    ]);
    expect(outcomes).toEqual(['ok', 'rejected: producing to scores: MESSAGE_TOO_LARGE', 'ok']);
    expect(requests).toEqual([
      ['together', 'anomalies:a1', 'scores:s1', 'drift:d1'],
      ['alone', 'anomalies:a1'],
      ['alone', 'scores:s1'],
      ['alone', 'drift:d1'],
    ]);
  });

  it('fails every write of a request with a retriable error (the broker is gone), without resending', async () => {
    const gone = new KafkaError('Kafka unreachable for 601 s', 'transient');
    const { sender, requests } = recordingSender(() => gone);
    const q = new ProduceQueue(500, sender);
    const outcomes = await Promise.all([settled(q.push('a', msgs('1'))), settled(q.push('b', msgs('2')))]);
    expect(outcomes).toEqual([
      'rejected: Kafka unreachable for 601 s',
      'rejected: Kafka unreachable for 601 s',
    ]);
    expect(requests).toEqual([['together', 'a:1', 'b:2']]);
  });
});

/**
 * `kafka` whose producers count the produce calls our code makes (`send` and `sendBatch`). Counting
 * kafkajs's Produce requests instead was flaky (CI at 050fe12 saw 3 for 2 batches): kafkajs resends a
 * request on its own when a just-created topic's first produce answers a retriable metadata error, and
 * that resend is not ours to count.
 */
function countingProduces(kafka: KafkaClient): { client: KafkaClient; produces: () => number } {
  let produces = 0;
  const producer = (options?: Parameters<KafkaClient['producer']>[0]): Producer => {
    const p = kafka.producer(options);
    const { send, sendBatch } = p;
    return Object.assign(p, {
      send: (record: Parameters<Producer['send']>[0]) => {
        produces++;
        return send(record);
      },
      sendBatch: (batch: Parameters<Producer['sendBatch']>[0]) => {
        produces++;
        return sendBatch(batch);
      },
    });
  };
  return {
    client: Object.assign(Object.create(kafka) as KafkaClient, { producer }),
    produces: () => produces,
  };
}

const scored = (i: number, key: string): ScoredEvent => ({
  ref: { topic: 'in', partition: 0, offset: String(i) },
  timestamp: Date.now(),
  key,
  status: 'scored',
  logLikelihood: -3,
  anomalyScore: 0.5,
  threshold: -9,
  isAnomaly: i % 4 === 0,
  modelVersion: 1,
});

describeKafka('Kafka sinks: one produce request per micro-batch', () => {
  let k: KafkaTestContext;
  const topics = {
    anomalies: uniqueKafkaName('pq-anomalies'),
    scores: uniqueKafkaName('pq-scores'),
    deadLetters: uniqueKafkaName('pq-dlq'),
    drift: uniqueKafkaName('pq-drift'),
  };

  beforeAll(async () => {
    k = await connectTestKafka();
    await createTopicsReady(
      k.admin,
      Object.values(topics).map((topic) => ({
        topic,
        numPartitions: 2,
        // Room for a batch of normal scored events, not for one with a 60 kB key.
        configEntries: topic === topics.scores ? [{ name: 'max.message.bytes', value: '50000' }] : [],
      })),
    );
  });
  afterAll(async () => {
    await k?.close();
  });

  it('writes anomalies, scores and drift of a batch in one request, each topic in order', async () => {
    const { client, produces } = countingProduces(k.kafka);
    const sinks = await createKafkaSinks(client, topics);
    const events = Array.from({ length: 40 }, (_, i) => scored(i, `k${i % 3}`));
    const before = produces();
    for (const batch of [events.slice(0, 20), events.slice(20)]) {
      await Promise.all([
        sinks.anomalies.write(batch.filter((e) => e.isAnomaly)),
        sinks.scores?.write(batch),
        sinks.drift.write([{ kind: 'started', batch: batch[0]?.ref.offset }]),
      ]);
    }
    expect(produces() - before).toBe(2);
    await sinks.close();
    const read = async (topic: string) => (await readTopic({ kafka: k.kafka, topic })).map((r) => r);
    const scores = await read(topics.scores);
    const anomalies = await read(topics.anomalies);
    const offsetsOf = (rs: typeof scores, key: string) =>
      rs.filter((r) => text(r.key) === key).map((r) => text(r.headers[OUTPUT_HEADERS.sourceOffset]));
    for (const key of ['k0', 'k1', 'k2']) {
      const want = events.filter((e) => e.key === key).map((e) => e.ref.offset);
      expect(offsetsOf(scores, key)).toEqual(want);
      expect(offsetsOf(anomalies, key)).toEqual(
        events.filter((e) => e.key === key && e.isAnomaly).map((e) => e.ref.offset),
      );
    }
    expect((await read(topics.drift)).length).toBe(2);
  });

  it('a record one topic refuses fails only that topic write; the others of the request are delivered', async () => {
    const sinks = await createKafkaSinks(k.kafka, topics);
    const scores = sinks.scores;
    if (scores === undefined) throw new Error('the scores sink exists when outputs.scores is set');
    const big = scored(100, 'x'.repeat(60_000));
    const outcome = (p: Promise<void>) =>
      p.then(
        () => 'ok' as const,
        (err: unknown) => err,
      );
    const [ok, refused] = await Promise.all([
      outcome(sinks.anomalies.write([scored(101, 'k-ok')])),
      outcome(scores.write([big])),
    ]);
    expect(ok).toBe('ok');
    expect(recordRejection(refused)).toMatch(/^MESSAGE_TOO_LARGE: producing to /);
    // The producer still works after the rejection (a fresh producer id), for both topics at once.
    await Promise.all([sinks.anomalies.write([scored(102, 'k-ok')]), scores.write([scored(103, 'k-ok')])]);
    await sinks.close();
    const offsets = async (topic: string) =>
      (await readTopic({ kafka: k.kafka, topic }))
        .filter((r) => text(r.key) === 'k-ok')
        .map((r) => text(r.headers[OUTPUT_HEADERS.sourceOffset]));
    expect(new Set(await offsets(topics.anomalies))).toEqual(new Set(['101', '102']));
    expect(await offsets(topics.scores)).toEqual(['103']);
  });
});
