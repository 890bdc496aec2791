/**
 * kafkajs ends a consumer for good, without its own restart, when it cannot find the group coordinator:
 * `KafkaJSGroupCoordinatorNotFound` is non-retriable in kafkajs 2.2.4. That happens while a broker that
 * was down comes back and loads the group coordinator (seen in the live Prometheus test: a run failed
 * with "Failed to find group coordinator" seconds after its broker restarted, far within
 * `kafka.outageToleranceMs`). `crashIsFatal` restarts such a consumer itself while the tolerance allows;
 * the outage watchdog still ends the run past it.
 */
import type { Consumer, ConsumerRunConfig } from 'kafkajs';
import type { KafkaSourceSettings } from './source-types.js';

/** True when `err` or one of its causes is kafkajs's `KafkaJSGroupCoordinatorNotFound`. */
export function isCoordinatorNotFound(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    if ((e as { name?: unknown }).name === 'KafkaJSGroupCoordinatorNotFound') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Options of {@link rerunConsumer}. */
export interface RerunConsumerOptions {
  readonly consumer: Pick<Consumer, 'connect' | 'run'>;
  /** The `run` config of the first start (the subscription is kept by kafkajs across its disconnect). */
  readonly runConfig: () => ConsumerRunConfig;
  /** False once the session closes or gave up (outage tolerance): no more attempts. */
  readonly wanted: () => boolean;
  /** An attempt failed before the consumer ran (it is tried again after `delayMs`). */
  readonly onAttemptError: (err: unknown) => void;
  /** Wait before each attempt, ms. Default 1000. */
  readonly delayMs?: number;
}

/**
 * Connects and runs the crashed `consumer` again after `delayMs`, and again after every failed attempt,
 * while `wanted()`. Crashes of the running consumer go to its CRASH listeners as usual.
 */
export function rerunConsumer(o: RerunConsumerOptions): void {
  const attempt = (): void => {
    if (!o.wanted()) return;
    o.consumer
      .connect()
      .then(() => (o.wanted() ? o.consumer.run(o.runConfig()) : undefined))
      .catch((err: unknown) => {
        o.onAttemptError(err);
        schedule();
      });
  };
  const schedule = (): void => {
    setTimeout(attempt, o.delayMs ?? 1000);
  };
  schedule();
}

/** What {@link crashIsFatal} needs of the consumer session. */
export interface CrashContext {
  readonly settings: Pick<KafkaSourceSettings, 'client' | 'health'>;
  readonly consumer: Pick<Consumer, 'connect' | 'run'>;
  readonly runConfig: ConsumerRunConfig;
  /** False once the session closes or gave up (outage tolerance). */
  readonly wanted: () => boolean;
}

/**
 * Handles a kafkajs consumer crash (`restart`: kafkajs restarts it itself) and logs what happens. False
 * when the consumer goes on (kafkajs restarts it, or it is restarted after a lost group coordinator);
 * true when the crash ends the run.
 */
export function crashIsFatal(error: Error, restart: boolean, c: CrashContext): boolean {
  const { health, client } = c.settings;
  const err = client.error(error, 'consuming');
  const context = { err, unreachableMs: health?.unreachableMs(), toleranceMs: health?.outageToleranceMs };
  if (restart) {
    client.logger.warn(
      context,
      'Kafka consumer crashed; kafkajs restarts it (until kafka.outageToleranceMs)',
    );
    return false;
  }
  if (isCoordinatorNotFound(error) && c.wanted()) {
    client.logger.warn(
      context,
      'Kafka group coordinator not found; restarting the consumer (until kafka.outageToleranceMs)',
    );
    rerunConsumer({
      consumer: c.consumer,
      runConfig: () => c.runConfig,
      wanted: c.wanted,
      onAttemptError: (e) =>
        client.logger.warn(
          { err: client.error(e, 'restarting the consumer') },
          'consumer restart failed; retrying',
        ),
    });
    return false;
  }
  client.logger.error(context, 'Kafka consumer crashed for good (not retriable): the run fails');
  return true;
}
