/**
 * Regression: `flowsentinel_kafka_records_consumed_total` was incremented once per fetched batch, at its
 * end. A batch larger than the credit gate waits for credit halfway (seconds on a busy machine), so a
 * scrape during that wait saw none of the records the batch had already handed to the pipeline, and the
 * chaos test's "consumed since the last commit" bound needed slack for it. Now the counter follows every
 * run of emitted records, before the source awaits anything.
 *
 * `emitBatch` with a real `CreditGate`, the job's real metrics observer and registry, and a scripted
 * kafkajs payload (no broker); the registry is scraped while the source waits for credit.
 */
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { kafkaMetricsObserver } from '../../src/job/kafka-observer.js';
import { type BatchTarget, emitBatch } from '../../src/kafka/emit-batch.js';
import { createKafkaConsumerMetrics } from '../../src/metrics/kafka-families.js';
import { CreditGate } from '../../src/streams/backpressure.js';

const message = (offset: number): KafkaMessage =>
  ({
    offset: String(offset),
    timestamp: '1700000000000',
    key: null,
    value: Buffer.from('{}'),
    headers: {},
    attributes: 0,
    size: 0,
  }) as unknown as KafkaMessage;

async function consumed(registry: Registry): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find(
    (x) => x.name === 'flowsentinel_kafka_records_consumed_total',
  );
  return m?.values.find((v) => v.labels.topic === 'in')?.value ?? Number.NaN;
}

it('a scrape while a fetched batch waits for credit counts every record the batch handed on', async () => {
  const registry = new Registry();
  const observer = kafkaMetricsObserver(createKafkaConsumerMetrics(registry, ['in']), ['in']);
  const gate = new CreditGate(3);
  let emitted = 0;
  const scrapes: { emitted: number; consumed: number }[] = [];
  const target: BatchTarget = {
    credits: gate,
    settings: { pauseAfterMs: 60_000, heartbeatIntervalMs: 3000, scheduler: undefined, observer },
    signal: new AbortController().signal,
    lastEmitted: new Map(),
    detached: () => false,
    emit: () => {
      emitted++;
      // The gate is full: the source will wait for credit. Scrape during the wait, then acknowledge.
      if (gate.available === 0) {
        setImmediate(() => {
          const at = emitted;
          consumed(registry).then(
            (c) => {
              scrapes.push({ emitted: at, consumed: c });
              gate.release(3);
            },
            (e: unknown) => {
              throw e;
            },
          );
        });
      }
    },
    pauseFetching: () => {
      throw new Error('the wait must end with a credit, not a fetch pause');
    },
  };
  const payload = {
    batch: {
      topic: 'in',
      partition: 0,
      highWatermark: '8',
      messages: [0, 1, 2, 3, 4, 5, 6, 7].map(message),
    },
    resolveOffset: () => undefined,
    heartbeat: () => Promise.resolve(),
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;

  await emitBatch(payload, target);

  expect(emitted).toBe(8);
  // Two waits (after records 3 and 6); before the fix both scrapes read 0.
  expect(scrapes).toEqual([
    { emitted: 3, consumed: 3 },
    { emitted: 6, consumed: 6 },
  ]);
  expect(await consumed(registry)).toBe(8);
});
