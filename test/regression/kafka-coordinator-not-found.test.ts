/**
 * Regression (found by test/deploy/prometheus-live.test.ts, 1 of 3 runs): seconds after its broker came
 * back from an outage, a run failed with "consuming: Failed to find group coordinator", far within
 * `kafka.outageToleranceMs`. kafkajs 2.2.4 treats `KafkaJSGroupCoordinatorNotFound` as non-retriable and
 * never restarts the consumer for it. Now the session restarts the consumer itself (connect + run with
 * the same config, again after every failed attempt) while the tolerance allows and it is not closing.
 */
import { createRequire } from 'node:module';
import type { ConsumerRunConfig } from 'kafkajs';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { crashIsFatal, isCoordinatorNotFound } from '../../src/kafka/consumer-crash.js';
import { createLogger } from '../../src/logging.js';

/** kafkajs's own error classes (not re-exported by its typed entry point). */
const kafkajsErrors = createRequire(import.meta.url)('kafkajs/src/errors.js') as Record<
  string,
  new (
    message: string,
  ) => Error
>;
const coordinatorNotFound = (): Error =>
  new kafkajsErrors.KafkaJSGroupCoordinatorNotFound!('Failed to find group coordinator');

const client = createKafka(loadConfig({ env: {}, overrides: { features: { fields: ['a'] } } }).kafka, {
  logger: createLogger({ level: 'silent', destination: process.stderr }),
});
const runConfig: ConsumerRunConfig = { autoCommit: false, eachBatch: async () => undefined };

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

it('recognises kafkajs GroupCoordinatorNotFound, also as a cause, and nothing else', () => {
  expect(isCoordinatorNotFound(coordinatorNotFound())).toBe(true);
  expect(isCoordinatorNotFound(new Error('wrapped', { cause: coordinatorNotFound() }))).toBe(true);
  expect(isCoordinatorNotFound(new kafkajsErrors.KafkaJSNonRetriableError!('other'))).toBe(false);
  expect(isCoordinatorNotFound(undefined)).toBe(false);
});

it('restarts the consumer after a lost coordinator, retrying failed attempts, until no longer wanted', async () => {
  let wanted = true;
  const connect = vi.fn<() => Promise<void>>().mockRejectedValueOnce(new Error('ECONNREFUSED'));
  connect.mockResolvedValue(undefined);
  const run = vi.fn<(c?: ConsumerRunConfig) => Promise<void>>().mockResolvedValue(undefined);
  const fatal = crashIsFatal(coordinatorNotFound(), false, {
    settings: { client },
    consumer: { connect, run },
    runConfig,
    wanted: () => wanted,
  });
  expect(fatal).toBe(false);
  expect(connect).not.toHaveBeenCalled();
  await vi.advanceTimersByTimeAsync(1000); // first attempt: connect fails
  expect(connect).toHaveBeenCalledTimes(1);
  expect(run).not.toHaveBeenCalled();
  await vi.advanceTimersByTimeAsync(1000); // second attempt: runs with the same config
  expect(connect).toHaveBeenCalledTimes(2);
  expect(run).toHaveBeenCalledWith(runConfig);

  wanted = false; // closing, or past kafka.outageToleranceMs: a later crash gets no attempt
  crashIsFatal(coordinatorNotFound(), false, {
    settings: { client },
    consumer: { connect, run },
    runConfig,
    wanted: () => wanted,
  });
  await vi.advanceTimersByTimeAsync(5000);
  expect(connect).toHaveBeenCalledTimes(2);
});

it('leaves retriable crashes to kafkajs and fails the run on other non-retriable ones', () => {
  const consumer = { connect: vi.fn(), run: vi.fn() };
  const context = { settings: { client }, consumer, runConfig, wanted: () => true };
  expect(crashIsFatal(new Error('connection reset'), true, context)).toBe(false);
  expect(crashIsFatal(new kafkajsErrors.KafkaJSNonRetriableError!('bad'), false, context)).toBe(true);
  vi.advanceTimersByTime(5000);
  expect(consumer.connect).not.toHaveBeenCalled();
});
