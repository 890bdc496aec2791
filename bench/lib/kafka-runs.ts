import { performance } from 'node:perf_hooks';
import type { AppConfig } from '../../src/config/index.js';
import { runDetectorJob } from '../../src/job/run.js';
import type { KafkaClient } from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging.js';
import { MemorySink } from '../../src/streams/sinks.js';
import { iterableSource } from '../../src/streams/source.js';
import type { DeadLetter, ScoredEvent, SourceRecord } from '../../src/streams/types.js';

const logger = createLogger({ level: 'warn', destination: process.stderr });

/** Baseline: a bare kafkajs consumer group reading `count` records; ms from group join to the last record. */
export async function rawConsume(kafka: KafkaClient, topic: string, count: number): Promise<number> {
  const consumer = kafka.consumer({
    groupId: `bench-raw-group-${Date.now().toString(36)}`,
    maxWaitTimeInMs: 100,
  });
  let joinedAt = 0;
  let seen = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joinedAt = performance.now();
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        seen += batch.messages.length;
        if (seen >= count) resolve(performance.now() - joinedAt);
        await heartbeat();
      },
    });
  });
  const ms = await done;
  await consumer.disconnect();
  return ms;
}

/**
 * The same job and records without Kafka: an in-memory source (generated, not read from a file) and
 * in-memory sinks. ms from the job's start until `count` records were acknowledged; the Kafka runs above
 * are timed from the group join, so both include model set-up and warm-up.
 */
export async function replayRun(
  config: AppConfig,
  records: () => Iterable<SourceRecord>,
  count: number,
): Promise<number> {
  const stop = new AbortController();
  let processed = 0;
  let finishedAt = 0;
  const progress = (n: number): void => {
    processed += n;
    if (processed >= count && finishedAt === 0) {
      finishedAt = performance.now();
      stop.abort();
    }
  };
  const startedAt = performance.now();
  const result = await runDetectorJob({
    config,
    logger,
    source: iterableSource(records),
    sinks: { anomalies: new MemorySink<ScoredEvent>(), deadLetters: new MemorySink<DeadLetter>() },
    serveMetrics: false,
    signal: stop.signal,
    onBatch: (info) => progress(info.results.length),
    onDeadLetter: () => progress(1),
  });
  result.parts.dispose();
  return (finishedAt || performance.now()) - startedAt;
}
