/** The halt / restart / stop part of a local broker (scripts/kafka/broker.ts): outages with the data kept. */
import { rm } from 'node:fs/promises';
import { KafkaBrokerError } from './errors.js';
import { tailFile } from './exec.js';
import type { JvmProcess } from './process.js';

const LOG_TAIL_LINES = 200;

/** What {@link brokerLifecycle} needs of the broker. */
export interface LifecycleOptions {
  /** stop()/halt(): ms between SIGTERM and SIGKILL. */
  readonly stopGraceMs: number;
  readonly log: (line: string) => void;
  /** Removed by stop(). */
  readonly workDir: string;
  readonly logFile: string;
  /** The JVM running now (or last). */
  readonly current: () => JvmProcess | undefined;
  /** Spawns the JVM on the broker's config and resolves once it is ready, with its startup ms. */
  readonly launch: () => Promise<number>;
}

/** halt / restart / stop of one broker's JVM (see `KafkaBroker`). */
export function brokerLifecycle(o: LifecycleOptions) {
  const { workDir, logFile, current, launch } = o;
  let startupMs = 0;
  let halted = false;
  let stopped: Promise<void> | undefined;
  const halt = async (): Promise<void> => {
    if (stopped) throw new KafkaBrokerError('halt(): the broker was stopped for good');
    halted = true;
    const t0 = Date.now();
    const exit = await current()?.stop(o.stopGraceMs);
    o.log(`Kafka broker halted in ${Date.now() - t0} ms (${exit?.signal ?? `exit code ${exit?.code}`})`);
  };
  const restart = async (): Promise<void> => {
    if (stopped) throw new KafkaBrokerError('restart(): the broker was stopped for good');
    if (!halted) throw new KafkaBrokerError('restart(): the broker is running; halt() it first');
    try {
      startupMs = await launch();
      halted = false;
    } catch (e) {
      await current()?.stop(2_000);
      const logTail = await tailFile(logFile, LOG_TAIL_LINES);
      o.log(`broker log (${logFile}), last ${LOG_TAIL_LINES} lines:\n${logTail || '(empty)'}`);
      throw new KafkaBrokerError(`Kafka broker failed to restart: ${e instanceof Error ? e.message : e}`, {
        cause: e,
        context: { logTail, workDir },
      });
    }
  };
  const stop = (): Promise<void> => {
    const t0 = Date.now();
    stopped ??= (async () => {
      const exit = await current()?.stop(o.stopGraceMs);
      await rm(workDir, { recursive: true, force: true });
      o.log(`Kafka broker stopped in ${Date.now() - t0} ms (${exit?.signal ?? `exit code ${exit?.code}`})`);
    })();
    return stopped;
  };
  return {
    start: async () => {
      startupMs = await launch();
    },
    startupMs: () => startupMs,
    halted: () => halted,
    halt,
    restart,
    stop,
  };
}
