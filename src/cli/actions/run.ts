/** What `flowsentinel run` runs (loaded only when the command runs; options in ../commands/run.ts). */
import { loadConfig } from '../../config/load.js';
import { runKafkaDetector } from '../../job/kafka.js';
import type { CommandDeps } from '../deps.js';
import { withShutdown } from '../with-shutdown.js';

/** After `run` ended (failed or stopped), the grace for the event loop to empty before the process is ended anyway, ms. */
export const FATAL_EXIT_GRACE_MS = 2000;

/** Runs the Kafka job of the config file `configFile` until it is stopped or fails. */
export function runAction(deps: CommandDeps, configFile: string): Promise<void> {
  return withShutdown(
    deps,
    () => loadConfig({ file: configFile }),
    async ({ config, logger, signal, print }) => {
      try {
        const result = await runKafkaDetector({ config, logger, signal });
        print(JSON.stringify(result));
        // After a broker outage kafkajs can leave a broker connection and timers behind although every
        // client was disconnected (1 of 6 chaos-test runs: a graceful stop hung): end the process anyway.
        endIfHeld(deps, 0, () => logger.warn('run stopped but open handles kept the process alive: exiting'));
      } catch (err) {
        // kafkajs timers (a consumer restart, kafkajs issue 852; producer retries) can keep a failed
        // process alive with nothing running: give the loop a moment to empty, then end it, non-zero.
        logger.error({ err }, 'run failed: exiting with code 1');
        endIfHeld(deps, 1);
        throw err;
      }
    },
  );
}

/**
 * Ends the process with `code` after FATAL_EXIT_GRACE_MS if something still holds the event loop then
 * (the timer is unref'd, so it never keeps the process alive itself).
 */
function endIfHeld(deps: CommandDeps, code: number, before?: () => void): void {
  setTimeout(() => {
    before?.();
    (deps.exit ?? process.exit)(code);
  }, FATAL_EXIT_GRACE_MS).unref();
}
