import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';
import { InvalidOptionError } from './errors.js';

export type { Logger } from 'pino';

/** Log levels accepted by `createLogger` (and the `log.level` config key). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Replacement for redacted values. */
export const REDACTED = '[REDACTED]';

/**
 * Paths pino censors wherever a secret could be logged: the SASL password and TLS private key, whether
 * the object logged is the whole config, its kafka section, or the sasl/ssl section itself.
 */
export const SECRET_LOG_PATHS: readonly string[] = [
  'password',
  'sasl.password',
  'kafka.sasl.password',
  'config.kafka.sasl.password',
  '*.password',
  '*.sasl.password',
  'ssl.key',
  'kafka.ssl.key',
  'config.kafka.ssl.key',
  '*.ssl.key',
];

/** Options of `createLogger`. */
export interface LoggerOptions {
  readonly level: LogLevel;
  /** Logger name, emitted as `name` on every line. */
  readonly name?: string;
  /** Where JSON lines go (default: stdout). Tests pass a collecting stream. */
  readonly destination?: DestinationStream;
}

/** A pino logger writing JSON lines, with secret paths redacted. */
export function createLogger(options: LoggerOptions): Logger {
  if (!(LOG_LEVELS as readonly string[]).includes(options.level)) {
    throw new InvalidOptionError(`log level must be one of ${LOG_LEVELS.join(', ')}, got "${options.level}"`);
  }
  const pinoOptions = {
    level: options.level satisfies LevelWithSilent,
    redact: { paths: [...SECRET_LOG_PATHS], censor: REDACTED },
    ...(options.name === undefined ? {} : { name: options.name }),
  };
  return options.destination === undefined ? pino(pinoOptions) : pino(pinoOptions, options.destination);
}
