/** The frame every command runs in: config → logger → graceful-shutdown handlers → body → dispose. */
import type { AppConfig } from '../config/schema.js';
import { createLogger, type LogFormat, type Logger } from '../logging.js';
import type { CommandContext, CommandDeps } from './deps.js';
import { installShutdownHandlers } from './shutdown.js';

/** `deps.logger`, else a pino logger on stderr at `level` (default info). */
export function commandLogger(deps: CommandDeps, level?: string, format?: LogFormat): Logger {
  if (deps.logger) return deps.logger(level, format);
  return createLogger({
    level: (level ?? 'info') as 'info',
    name: 'flowsentinel',
    destination: process.stderr,
    ...(format === undefined ? {} : { format }),
  });
}

/** `deps.print`, else one line to stdout. */
export function commandPrint(deps: CommandDeps): (line: string) => void {
  return deps.print ?? ((line: string) => process.stdout.write(`${line}\n`));
}

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
  const logger = commandLogger(deps, config.log.level, config.log.format);
  const shutdown = (deps.installShutdown ?? installShutdownHandlers)(logger, config.shutdown.timeoutMs);
  try {
    await body({ config, logger, signal: shutdown.signal, print: commandPrint(deps) });
  } finally {
    shutdown.dispose();
  }
}
