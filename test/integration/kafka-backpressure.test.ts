import { afterAll, beforeAll, expect, it } from 'vitest';
import { produceRecords } from '../../src/kafka/index.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import type { BatchDetector } from '../../src/streams/types.js';
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

const COUNT = 2000;
const HIGH_WATER_MARK = 100;
const BATCH = 50;
/** The broker's minimum; the run below lasts longer than this, paused most of the time. */
const SESSION_TIMEOUT_MS = 6000;
/** Simulated work of the fake detector per micro-batch (ms): enough batches of it outlast the session timeout. */
const DETECTOR_DELAY_MS = 200;

/** Takes `delayMs` per batch, far slower than Kafka delivers. */
function slowDetector(delayMs: number): BatchDetector {
  return scoreAllNormal(-1, delayMs);
}

describeKafka('Kafka backpressure with a slow detector', () => {
  const t = jobTopicNames('bp', { scores: false });
  const groupId = groupName('bp');
  let k: KafkaTestContext;

  beforeAll(async () => {
    k = await connectTestKafka();
    await createJobTopics(k.admin, t, { inputPartitions: 2, outputPartitions: 2, keepForever: true });
    await produceRecords(
      k.kafka,
      t.input,
      generateRecords({ seed: 8, count: COUNT, fields: ['x'], partitions: 2, topic: t.input }),
    );
  });

  afterAll(async () => {
    await k?.close();
  });

  it('keeps in-flight records under the high-water mark by pausing, without the member being kicked out', async () => {
    const events = { joins: 0, rebalancing: 0, paused: 0, resumed: 0 };
    let maxPending = 0;
    const job = await startPipelineJob({
      kafka: k.kafka,
      groupId,
      input: t.input,
      outputs: t.outputs,
      fields: ['x'],
      detector: slowDetector(DETECTOR_DELAY_MS),
      batch: { maxSize: BATCH, maxWaitMs: 20 },
      highWaterMark: HIGH_WATER_MARK,
      source: {
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        heartbeatIntervalMs: 1000,
        commitIntervalMs: 250,
        observer: {
          groupJoin: () => events.joins++,
          rebalancing: () => events.rebalancing++,
          paused: () => events.paused++,
          resumed: () => events.resumed++,
        },
      },
      onBatch: (_, acks) => {
        maxPending = Math.max(maxPending, acks.pending);
      },
    });
    await waitFor(() => job.handle.summary().scored === COUNT, 60_000, 'every record').catch(
      async (err: unknown) => {
        await job.stop();
        throw err;
      },
    );
    const summary = await job.stop();
    // The run outlasted the session timeout while paused most of the time: the fake detector alone spent
    // DETECTOR_DELAY_MS of simulated work per batch (counted, not timed, so a loaded machine cannot flake it).
    expect(summary.batches * DETECTOR_DELAY_MS).toBeGreaterThan(SESSION_TIMEOUT_MS);
    expect(summary.in).toBe(COUNT);
    expect(summary.maxInFlight).toBeLessThanOrEqual(HIGH_WATER_MARK);
    expect(maxPending).toBeLessThanOrEqual(HIGH_WATER_MARK);
    expect(events.paused).toBeGreaterThan(5);
    expect(events.resumed).toBeGreaterThan(5);
    expect(events).toMatchObject({ joins: 1, rebalancing: 0 });
    expect(job.source.stats.crashes).toBe(0);
    const committed = await committedOffsets(k.admin, groupId, t.input);
    const total = Number([...committed.values()].reduce((sum, o) => sum + o, 0n));
    expect(total).toBe(COUNT);
  });
});
