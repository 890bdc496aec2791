/**
 * Regression (issue 13, item 3): /readyz stayed 200 through a stalled sink, and the lag gauge froze at its
 * last per-batch value. Against the real broker: the scores topic is deleted mid-run, so scores writes
 * are retried (unknown topic) and outputs stay unacknowledged. /readyz must turn 503 with the reason,
 * flowsentinel_stalled must say so, and the lag must grow while records keep arriving. Recreating the
 * topic must heal everything with nothing lost.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTopicsReady } from '../../scripts/kafka/readiness.js';
import { loadConfig } from '../../src/config/index.js';
import { runKafkaDetector } from '../../src/job/kafka.js';
import { produceRecords } from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging.js';
import { describeKafka } from '../helpers/kafka.js';
import {
  connectTestKafka,
  createJobTopics,
  freePort,
  fullyCommitted,
  groupName,
  httpProbe,
  jobTopicNames,
  type KafkaTestContext,
  outputCounts,
  roundRobinRef,
  metricSample as sample,
  sinCosRecords,
  waitFor,
} from '../helpers/kafka-job.js';

const PARTITIONS = 2;

describeKafka('regression: readiness and lag while outputs are stalled', () => {
  let k: KafkaTestContext;

  beforeAll(async () => {
    k = await connectTestKafka();
  });

  afterAll(async () => {
    await k?.close();
  });

  it('turns /readyz 503 with the reason and flowsentinel_stalled 1, keeps the lag growing, and heals with nothing lost', async () => {
    const t = jobTopicNames('stall');
    const groupId = groupName('stall');
    await createJobTopics(k.admin, t, { inputPartitions: PARTITIONS });
    await produceRecords(k.kafka, t.input, sinCosRecords(t.input, 0, 100, PARTITIONS));
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
          brokers: k.brokers,
          clientId: 'stall-test',
          groupId,
          topics: [t.input],
          start: 'earliest',
          outputs: t.outputs,
        },
      },
    });
    const committed = () => fullyCommitted(k.admin, groupId, t.input);
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
    const get = httpProbe(port, () => {
      if (runError !== undefined) throw runError;
    });

    await waitFor(
      async () =>
        (await get('/readyz')).status === 200 &&
        (await get('/metrics')).body.includes('flowsentinel_events_total'),
      60_000,
      'the run to be ready',
    );
    await waitFor(committed, 60_000, 'the first 100 records to be committed');
    await k.admin.deleteTopics({ topics: [t.outputs.scores] });
    // Written during the stall: read up to highWaterMark, the rest shows up as lag.
    await produceRecords(k.kafka, t.input, sinCosRecords(t.input, 100, 400, PARTITIONS));
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

    await createTopicsReady(k.admin, [{ topic: t.outputs.scores, numPartitions: 1 }]);
    await waitFor(committed, 90_000, 'everything to be committed after the stall');
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
    const counts = await outputCounts(k.kafka, [t.outputs.scores]);
    const expected = Array.from({ length: 400 }, (_, j) => roundRobinRef(100 + j, PARTITIONS));
    expect(expected.filter((ref) => !counts.has(ref))).toEqual([]);
  });
});
