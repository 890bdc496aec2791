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
import { afterAll, beforeAll, expect, it } from 'vitest';
import { produceRecords } from '../../src/kafka/index.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import { describeKafka } from '../helpers/kafka.js';
import {
  committedOffsets,
  connectTestKafka,
  createJobTopics,
  groupName,
  jobTopicNames,
  type KafkaTestContext,
  startPipelineJob,
  waitFor,
} from '../helpers/kafka-job.js';
import { scoreAllNormal } from '../helpers/test-detectors.js';

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
  const t = jobTopicNames('churn', { scores: false });
  let k: KafkaTestContext;

  beforeAll(async () => {
    k = await connectTestKafka();
    await createJobTopics(k.admin, t, { inputPartitions: 1, keepForever: true });
    await produceRecords(
      k.kafka,
      t.input,
      generateRecords({ seed: 14, count: COUNT, fields: ['x'], partitions: 1, topic: t.input }),
    );
  });

  afterAll(async () => {
    await k?.close();
  });

  /** Consumes `count` records of the backlog with a fresh group; counts batches and pauses. */
  async function consume(pauseAfterMs: number, count: number, delayMs = 0): Promise<ChurnRun> {
    const groupId = groupName('churn');
    let batches = 0;
    let maxPerBatch = 0;
    let creditPauses = 0;
    const job = await startPipelineJob({
      kafka: k.kafka,
      groupId,
      input: t.input,
      outputs: t.outputs,
      fields: ['x'],
      detector: scoreAllNormal(-1, delayMs),
      batch: { maxSize: BATCH, maxWaitMs: 20 },
      highWaterMark: HIGH_WATER_MARK,
      source: {
        commitIntervalMs: 100,
        pauseAfterMs,
        observer: {
          fetched: ({ emitted }) => {
            if (emitted > 0) batches++;
            maxPerBatch = Math.max(maxPerBatch, emitted);
          },
          paused: () => creditPauses++,
        },
      },
    });
    await waitFor(() => job.handle.summary().scored >= count, 60_000, `${count} records scored`).catch(
      async (err: unknown) => {
        await job.stop();
        throw err;
      },
    );
    const summary = await job.stop();
    const offsets = await committedOffsets(k.admin, groupId, t.input);
    const committed = Number([...offsets.values()].reduce((sum, o) => sum + o, 0n));
    const { fetchPauses } = job.source.stats;
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
