import { Writable } from 'node:stream';
import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';
import pinoPretty from 'pino-pretty';
import { InvalidOptionError } from './errors.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel, REDACTED } from './log-names.js';
import { formatLogMessage } from './log-pretty.js';

export type { Logger } from 'pino';
export { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel, REDACTED } from './log-names.js';

/** Carriage return + erase the whole line (ANSI EL2). */
const CLEAR_LINE = '\r\x1b[2K';

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
  /** Where log lines go (default: stdout). Tests pass a collecting stream. */
  readonly destination?: DestinationStream & { readonly isTTY?: boolean };
  /** Rendering; default (unset): `pretty` when the destination is a terminal, else `json`. */
  readonly format?: LogFormat;
}

/** The format `createLogger` uses: the one asked for, else pretty on a terminal and JSON elsewhere. */
export function resolveLogFormat(
  format: LogFormat | undefined,
  destination: { readonly isTTY?: boolean },
): LogFormat {
  return format ?? (destination.isTTY === true ? 'pretty' : 'json');
}

/**
 * On a terminal every line first clears the cursor's line: a progress bar drawn there (cli-progress, also on
 * stderr) is replaced by the log line and redrawn below it instead of being run into.
 */
function clearingLine(destination: DestinationStream): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      destination.write(`${CLEAR_LINE}${chunk.toString()}`);
      callback();
    },
  });
}

function prettyStream(destination: DestinationStream & { readonly isTTY?: boolean }): DestinationStream {
  const tty = destination.isTTY === true;
  return pinoPretty({
    destination: tty ? clearingLine(destination) : destination,
    colorize: tty,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    hideObject: true,
    messageFormat: (log, messageKey) => formatLogMessage(log, messageKey),
  });
}

/** A pino logger writing JSON lines or pretty lines (see `LoggerOptions.format`), with secret paths redacted. */
export function createLogger(options: LoggerOptions): Logger {
  if (!(LOG_LEVELS as readonly string[]).includes(options.level)) {
    throw new InvalidOptionError(`log level must be one of ${LOG_LEVELS.join(', ')}, got "${options.level}"`);
  }
  if (options.format !== undefined && !(LOG_FORMATS as readonly string[]).includes(options.format)) {
    throw new InvalidOptionError(
      `log format must be one of ${LOG_FORMATS.join(', ')}, got "${options.format}"`,
    );
  }
  const pinoOptions = {
    level: options.level satisfies LevelWithSilent,
    redact: { paths: [...SECRET_LOG_PATHS], censor: REDACTED },
    ...(options.name === undefined ? {} : { name: options.name }),
  };
  const destination = options.destination ?? process.stdout;
  if (resolveLogFormat(options.format, destination) === 'pretty')
    return pino(pinoOptions, prettyStream(destination));
  return options.destination === undefined ? pino(pinoOptions) : pino(pinoOptions, options.destination);
}
