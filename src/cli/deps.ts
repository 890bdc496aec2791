/**
 * What the commands get from main.ts (tests inject their own) and what a running command's body gets.
 * Types only: registering the commands must not load the logger, the config schema or the job.
 */
import type { AppConfig } from '../config/schema.js';
import type { LogFormat, Logger } from '../logging.js';
import type { installShutdownHandlers } from './shutdown.js';

/** What the commands need from main.ts; every field has a default (`commandLogger`, `withShutdown`). */
export interface CommandDeps {
  /**
   * A logger writing to stderr at `level` (default info), in `format` (default: pretty on a terminal).
   * Default: pino on stderr, so stdout carries only the command's output (summaries, JSON results).
   */
  readonly logger?: (level?: string, format?: LogFormat) => Logger;
  /** Writes one result line to stdout (default process.stdout). */
  readonly print?: (line: string) => void;
  /** Default `installShutdownHandlers` (SIGTERM/SIGINT → abort; second signal exits). */
  readonly installShutdown?: typeof installShutdownHandlers;
  /** Ends the process (default `process.exit`); `run` uses it when a failed run leaves timers behind. */
  readonly exit?: (code: number) => void;
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
