/**
 * The log levels, formats and redaction mark, apart from the pino logger (`logging.ts`), so that the
 * config schema can name them without loading pino: `validate-config` never logs.
 */

/** Log levels accepted by `createLogger` (and the `log.level` config key). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Log renderings (the `log.format` config key): `json` lines for collectors, `pretty` one readable line per
 * record (time, level, message, short fields) for a person at a terminal.
 */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Replacement for redacted values. */
export const REDACTED = '[REDACTED]';
