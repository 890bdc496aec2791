/**
 * Regression (issue 13, item 3): /readyz stayed 200 through a stalled sink, and the lag gauge froze at its
 * last per-batch value. Against the real broker: the scores topic is deleted mid-run, so scores writes
 * are retried (unknown topic) and outputs stay unacknowledged. /readyz must turn 503 with the reason,
 * flowsentinel_stalled must say so, and the lag must grow while records keep arriving. Recreating the
 * topic must heal everything with nothing lost.
 */
import { createServer } from 'node:net';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { runKafkaDetector } from '../../src/job/kafka.js';
import { createKafka, type KafkaClient, produceRecords, readTopic } from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging.js';
import type { SourceRecord } from '../../src/streams/types.js';
import { describeKafka, kafkaBrokers, uniqueKafkaName } from '../helpers/kafka.js';
import { waitFor } from '../helpers/test-detectors.js';

const PARTITIONS = 2;
/** Recent event times: the broker deletes records older than its 7-day default retention. */
const NOW = Date.now();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function records(topic: string, from: number, count: number): SourceRecord[] {
  const enc = new TextEncoder();
  return Array.from({ length: count }, (_, j) => {
    const i = from + j;
    return {
      topic,
      partition: i % PARTITIONS,
      offset: '0',
      timestamp: NOW + i,
      key: enc.encode(`k${i % 5}`),
      headers: {},
      value: enc.encode(JSON.stringify({ a: Math.sin(i), b: Math.cos(i) })),
    };
  });
}

/** Sum of a gauge family's samples in Prometheus text, optionally only lines matching `labels`. */
function sample(text: string, name: string, labels = ''): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && l.includes(labels) && !l.startsWith('#'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describeKafka('regression: readiness and lag while outputs are stalled', () => {
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

  it('turns /readyz 503 with the reason and flowsentinel_stalled 1, keeps the lag growing, and heals with nothing lost', async () => {
    const t = {
      input: uniqueKafkaName('stall-in'),
      anomalies: uniqueKafkaName('stall-anomalies'),
      scores: uniqueKafkaName('stall-scores'),
      deadLetters: uniqueKafkaName('stall-dlq'),
      drift: uniqueKafkaName('stall-drift'),
    };
    const groupId = uniqueKafkaName('stall-group');
    await admin.createTopics({
      topics: [
        { topic: t.input, numPartitions: PARTITIONS },
        ...[t.scores, t.anomalies, t.deadLetters, t.drift].map((topic) => ({ topic, numPartitions: 1 })),
      ],
      waitForLeaders: true,
    });
    await produceRecords(kafka, t.input, records(t.input, 0, 100));
    const port = await freePort();
    const config = loadConfig({
      env: {},
      overrides: {
        features: { fields: ['a', 'b'] },
        model: { type: 'realnvp', layers: 2, hidden: 8 },
        training: { batchSize: 32, replayReservoir: { size: 200 } },
        warmup: { events: 50 },
        threshold: { policy: 'static', logLikelihood: -30 },
        batching: { maxSize: 50, maxWaitMs: 20, highWaterMark: 150 },
        metrics: { enabled: true, port, host: '127.0.0.1' },
        health: { stallMs: 1500 },
        kafka: {
          brokers,
          clientId: 'stall-test',
          groupId,
          topics: [t.input],
          start: 'earliest',
          outputs: { anomalies: t.anomalies, scores: t.scores, deadLetters: t.deadLetters, drift: t.drift },
        },
      },
    });
    const fullyCommitted = async (): Promise<boolean> => {
      const ends = await admin.fetchTopicOffsets(t.input);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [t.input] });
      const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
      return ends.every((e) => at.get(e.partition) === e.high);
    };
    const stop = new AbortController();
    const run = runKafkaDetector({
      config,
      logger: createLogger({ level: 'error', destination: process.stderr }),
      signal: stop.signal,
      source: { heartbeatIntervalMs: 500, commitIntervalMs: 200, lagIntervalMs: 300 },
    });
    let runError: unknown;
    run.catch((err: unknown) => {
      runError = err;
    });
    const get = async (path: string): Promise<{ status: number; body: string }> => {
      if (runError !== undefined) throw runError;
      const res = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
      return res === undefined ? { status: 0, body: '' } : { status: res.status, body: await res.text() };
    };

    await waitFor(
      async () =>
        (await get('/readyz')).status === 200 &&
        (await get('/metrics')).body.includes('flowsentinel_events_total'),
      60_000,
      'the run to be ready',
    );
    await waitFor(fullyCommitted, 60_000, 'the first 100 records to be committed');
    await admin.deleteTopics({ topics: [t.scores] });
    // Written during the stall: read up to highWaterMark, the rest shows up as lag.
    await produceRecords(kafka, t.input, records(t.input, 100, 400));
    let readyz = { status: 0, body: '' };
    await waitFor(
      async () => {
        readyz = await get('/readyz');
        return readyz.status === 503 && readyz.body.includes('outputs unacknowledged');
      },
      60_000,
      '/readyz to report the stalled outputs',
    );
    expect(JSON.parse(readyz.body)).toMatchObject({ status: 'not_ready' });
    expect(JSON.parse(readyz.body).reason).toMatch(
      /outputs unacknowledged by the broker for [\d.]+ s \(health\.stallMs 1\.5 s\)/,
    );
    const stalled = (await get('/metrics')).body;
    expect(sample(stalled, 'flowsentinel_stalled', 'reason="outputs_unacknowledged"')).toBe(1);
    expect(sample(stalled, 'flowsentinel_stalled', 'reason="broker_unreachable"')).toBe(0);
    expect(sample(stalled, 'flowsentinel_ready ')).toBe(0);

    // Nothing is acknowledged, so at most highWaterMark (150) records are read; the rest is lag, reported
    // although no batch arrives to report it.
    await waitFor(
      async () => sample((await get('/metrics')).body, 'flowsentinel_kafka_consumer_lag_records') >= 250,
      30_000,
      'the lag to grow by the records produced during the stall',
    );

    await admin.createTopics({ topics: [{ topic: t.scores, numPartitions: 1 }], waitForLeaders: true });
    await waitFor(fullyCommitted, 90_000, 'everything to be committed after the stall');
    await waitFor(async () => (await get('/readyz')).status === 200, 30_000, '/readyz to recover');
    await waitFor(
      async () => sample((await get('/metrics')).body, 'flowsentinel_kafka_consumer_lag_records') === 0,
      30_000,
      'the lag to drop to 0',
    );
    expect(sample((await get('/metrics')).body, 'flowsentinel_stalled')).toBe(0);
    stop.abort();
    const result = await run;
    expect(result.summary.in).toBe(500);
    // Every record produced during the stall is in the recreated scores topic.
    const scores = await readTopic({ kafka, topic: t.scores });
    const offsets = new Set(
      scores.map(
        (r) =>
          Buffer.from(r.headers['x-source-offset'] ?? []).toString('utf8') +
          '/' +
          Buffer.from(r.headers['x-source-partition'] ?? []).toString('utf8'),
      ),
    );
    const expected = Array.from(
      { length: 400 },
      (_, j) => `${Math.floor((100 + j) / PARTITIONS)}/${(100 + j) % PARTITIONS}`,
    );
    expect(expected.filter((ref) => !offsets.has(ref))).toEqual([]);
  });
});
