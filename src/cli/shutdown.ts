import type { Logger } from '../logging.js';

/**
 * Graceful shutdown on SIGTERM/SIGINT: the first signal aborts the returned signal (callers stop reading,
 * drain, flush, commit, checkpoint) and arms a timer that exits 1 if the drain exceeds `timeoutMs`; a
 * second signal exits at once (130). `dispose` removes the handlers.
 */
export function installShutdownHandlers(
  logger: Logger,
  timeoutMs: number,
  terminate: (code: number) => void = process.exit.bind(process),
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      logger.warn({ signal: sig }, 'second signal: exiting immediately');
      terminate(130);
      return;
    }
    logger.info({ signal: sig, timeoutMs }, 'shutting down gracefully');
    controller.abort();
    timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'graceful shutdown timed out');
      terminate(1);
    }, timeoutMs);
    timer.unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      if (timer) clearTimeout(timer);
    },
  };
}
