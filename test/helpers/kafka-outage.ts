/**
 * A broker outage with the data kept, for tests on a broker of their own (`startKafkaBroker`): the JVM
 * is halted, the test watches what the job does meanwhile, and the broker comes back on the same data
 * dir and ports (`KafkaBroker.halt()` / `restart()`).
 */
import type { KafkaBroker } from '../../scripts/kafka/broker.js';
import { waitFor } from './test-detectors.js';

/** Options of {@link brokerOutage}. */
export interface BrokerOutageOptions {
  /** How long the broker stays down at least, ms: the scenario's outage length. */
  readonly durationMs: number;
  /**
   * Checked while the broker is down (every `pollMs`); the broker comes back only once it returned true
   * (e.g. "the job reported not ready"). It must turn true within `durationMs` + `graceMs`.
   */
  readonly until?: () => boolean | Promise<boolean>;
  /** Default 60 000. */
  readonly graceMs?: number;
  readonly pollMs?: number;
}

/** What happened during an outage. */
export interface BrokerOutage {
  /** From the halt to the restarted broker being ready, ms. */
  readonly downMs: number;
  /** Restart of the JVM to ready, ms. */
  readonly restartMs: number;
}

/**
 * Halts `broker`, waits until `durationMs` passed and `until()` held, then restarts it on the same
 * data dir and ports. The broker is restarted even when the wait fails (the error is rethrown).
 */
export async function brokerOutage(broker: KafkaBroker, o: BrokerOutageOptions): Promise<BrokerOutage> {
  const halted = Date.now();
  await broker.halt();
  let seen = o.until === undefined;
  let failure: unknown;
  await waitFor(
    async () => {
      if (!seen) seen = (await o.until?.()) === true;
      return seen && Date.now() - halted >= o.durationMs;
    },
    o.durationMs + (o.graceMs ?? 60_000),
    'the condition awaited during the broker outage',
    o.pollMs ?? 250,
  ).catch((err: unknown) => {
    failure = err;
  });
  const restarting = Date.now();
  await broker.restart();
  const restartMs = Date.now() - restarting;
  if (failure !== undefined) throw failure;
  return { downMs: Date.now() - halted, restartMs };
}
