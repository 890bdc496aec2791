/** The frame every command runs in: config → logger → graceful-shutdown handlers → body → dispose. */
import type { AppConfig } from '../config/schema.js';
import { createLogger, type LogFormat, type Logger } from '../logging.js';
import { installShutdownHandlers } from './shutdown.js';

/** What the commands need from main.ts (tests inject their own). */
export interface CommandDeps {
  /** A logger writing to stderr at `level` (default info), in `format` (default: pretty on a terminal). */
  readonly logger: (level?: string, format?: LogFormat) => Logger;
  /** Writes one result line to stdout (default process.stdout). */
  readonly print?: (line: string) => void;
  /** Default `installShutdownHandlers` (SIGTERM/SIGINT → abort; second signal exits). */
  readonly installShutdown?: typeof installShutdownHandlers;
}

/** What a command's body gets. */
export interface CommandContext {
  readonly config: AppConfig;
  readonly logger: Logger;
  /** Aborted by the first SIGTERM/SIGINT: stop reading, drain, flush. */
  readonly signal: AbortSignal;
  /** Writes one result line to stdout. */
  readonly print: (line: string) => void;
}

/**
 * The default dependencies: a pino logger on stderr (so stdout carries only the command's output:
 * summaries, JSON results), stdout for results, process signal handlers.
 */
export const defaultCommandDeps: CommandDeps = {
  logger: (level?: string, format?: LogFormat) =>
    createLogger({
      level: (level ?? 'info') as 'info',
      name: 'flowsentinel',
      destination: process.stderr,
      ...(format === undefined ? {} : { format }),
    }),
};

/**
 * Loads the config (`load` throws `ConfigError` on bad input), creates the logger at `log.level`, installs
 * the shutdown handlers with `shutdown.timeoutMs`, runs `body`, and removes the handlers however it ends.
 */
export async function withShutdown(
  deps: CommandDeps,
  load: () => AppConfig,
  body: (ctx: CommandContext) => Promise<void>,
): Promise<void> {
  const config = load();
  const logger = deps.logger(config.log.level, config.log.format);
  const shutdown = (deps.installShutdown ?? installShutdownHandlers)(logger, config.shutdown.timeoutMs);
  const print = deps.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  try {
    await body({ config, logger, signal: shutdown.signal, print });
  } finally {
    shutdown.dispose();
  }
}
