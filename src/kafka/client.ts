/**
 * Our seam over kafkajs 2.2.4 (unmaintained upstream): only files under src/kafka/ import kafkajs, and
 * they build every client through `createKafka`, so TLS, SASL, retries, logging and error
 * classification are configured in one place.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import {
  type Admin,
  type Consumer,
  type ConsumerConfig,
  Kafka,
  type logCreator,
  logLevel,
  type Producer,
  type ProducerConfig,
  type RetryOptions,
  type SASLOptions,
} from 'kafkajs';
import type { KafkaConfig } from '../config/schema.js';
import { InvalidOptionError } from '../errors.js';
import type { Logger } from '../logging.js';
import { KafkaError, toKafkaError } from './errors.js';
import { scrubText, scrubValue } from './redact.js';

/** Retry with exponential backoff, as kafkajs applies it to every request. */
export interface KafkaRetryOptions {
  /** First backoff, ms. Default 300. */
  readonly initialRetryTime?: number;
  /** Cap on one backoff, ms. Default 30 000. */
  readonly maxRetryTime?: number;
  /** Retries before giving up (the error then surfaces as a retriable `KafkaError`). Default 8. */
  readonly retries?: number;
  /** Backoff growth per retry. Default 2. */
  readonly multiplier?: number;
  /** Random jitter, fraction of the backoff. Default 0.2. */
  readonly factor?: number;
}

/** Options of `createKafka`. */
export interface CreateKafkaOptions {
  /** kafkajs logs are routed here (kafkajs info → debug), with secrets scrubbed. */
  readonly logger: Logger;
  readonly retry?: KafkaRetryOptions;
  /** TCP (and TLS) connect timeout, ms. Default 3000. */
  readonly connectionTimeoutMs?: number;
  /** Request timeout, ms. Default 30 000. */
  readonly requestTimeoutMs?: number;
  /** Reads PEM and password files (UTF-8); default fs.readFileSync. */
  readonly readFile?: (path: string) => string;
}

/** A configured Kafka client. Connections are opened by the consumers/producers/admins it creates. */
export interface KafkaClient {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly logger: Logger;
  consumer(config: ConsumerConfig): Consumer;
  producer(config?: ProducerConfig): Producer;
  admin(): Admin;
  /** `toKafkaError` with this client's secrets scrubbed from the message. */
  error(err: unknown, action: string): KafkaError;
}

const DEFAULT_RETRY: Required<KafkaRetryOptions> = {
  initialRetryTime: 300,
  maxRetryTime: 30_000,
  retries: 8,
  multiplier: 2,
  factor: 0.2,
};

const PEM = /-----BEGIN [A-Z0-9 ]+-----/;

/** Security settings resolved from config: files read, secrets collected for scrubbing. */
export interface ResolvedSecurity {
  readonly ssl?: ConnectionOptions;
  readonly sasl?: SASLOptions;
  /** Strings that must never appear in logs or errors. */
  readonly secrets: readonly string[];
}

function readConfigFile(
  path: string,
  field: string,
  readFile: (p: string) => string,
  secret = false,
): string {
  try {
    return readFile(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why = typeof code === 'string' ? code : 'unreadable';
    // A secret field's value is never echoed: it may be the secret itself (e.g. a key that is not PEM).
    // The read error is not attached as the cause either, since its message holds the path.
    if (secret) {
      throw new KafkaError(
        `${field} is neither PEM text (-----BEGIN …-----) nor a readable file (${why}); the value is a secret and is not shown: give inline PEM text or the path of a readable PEM file`,
        'config',
        { context: { field, code: why } },
      );
    }
    throw new KafkaError(
      `cannot read ${field} file ${path} (${why}); give a readable path or inline PEM text`,
      'config',
      { context: { field, path } },
    );
  }
}

/** PEM text as is, else the content of the file it names (`secret`: the value is never echoed). */
function pem(value: string, field: string, readFile: (p: string) => string, secret = false): string {
  return PEM.test(value) ? value : readConfigFile(value, field, readFile, secret);
}

/**
 * Resolves `kafka.ssl` and `kafka.sasl`: PEM text or file paths for ca/cert/key (hostname verification on
 * unless `rejectUnauthorized: false`), and the SASL password from config or `passwordFile` (read now,
 * trailing newlines trimmed). Throws a fatal `KafkaError` (kind 'config') for unreadable files.
 */
export function resolveSecurity(
  config: Pick<KafkaConfig, 'ssl' | 'sasl'>,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): ResolvedSecurity {
  const secrets: string[] = [];
  let ssl: ConnectionOptions | undefined;
  if (config.ssl !== undefined) {
    const s = config.ssl;
    const key = s.key === undefined ? undefined : pem(s.key, 'kafka.ssl.key', readFile, true);
    if (key !== undefined) secrets.push(key);
    ssl = {
      rejectUnauthorized: s.rejectUnauthorized,
      ...(s.ca === undefined ? {} : { ca: [pem(s.ca, 'kafka.ssl.ca', readFile)] }),
      ...(s.cert === undefined ? {} : { cert: pem(s.cert, 'kafka.ssl.cert', readFile) }),
      ...(key === undefined ? {} : { key }),
    };
  }
  let sasl: SASLOptions | undefined;
  if (config.sasl !== undefined) {
    const { mechanism, username, passwordFile } = config.sasl;
    let password = config.sasl.password;
    if (password === undefined && passwordFile !== undefined) {
      password = readConfigFile(passwordFile, 'kafka.sasl.passwordFile', readFile).replace(/[\r\n]+$/, '');
    }
    if (password === undefined || password.length === 0) {
      throw new KafkaError(
        `kafka.sasl needs a non-empty password: set password or point passwordFile at a non-empty file`,
        'config',
        { context: passwordFile === undefined ? {} : { passwordFile } },
      );
    }
    secrets.push(password);
    sasl = { mechanism, username, password };
  }
  return { ...(ssl ? { ssl } : {}), ...(sasl ? { sasl } : {}), secrets };
}

/** The kafkajs log level matching the logger's level (kafkajs info is logged at debug). */
function kafkaLogLevel(logger: Logger): logLevel {
  if (logger.isLevelEnabled('debug')) return logLevel.DEBUG;
  if (logger.isLevelEnabled('warn')) return logLevel.WARN;
  if (logger.isLevelEnabled('error')) return logLevel.ERROR;
  return logLevel.NOTHING;
}

/**
 * A kafkajs `logCreator` writing to `logger`: kafkajs error/warn stay error/warn, info and debug become
 * debug (kafkajs info is chatty: every pause/resume), and so do per-response protocol errors. Every field is scrubbed of `secrets` and of
 * secret-named keys before it reaches pino.
 */
export function kafkaLogCreator(logger: Logger, secrets: readonly string[]): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, ...fields } = log;
      const safe = scrubValue(fields, secrets) as Record<string, unknown>;
      const text = scrubText(String(message), secrets);
      const obj = { kafkajs: namespace, ...safe };
      // kafkajs logs every error response (rebalance in progress, coordinator loading) at error level
      // before retrying or rethrowing it; callers surface the ones that matter.
      const routine = namespace === 'Connection' && text.startsWith('Response ');
      if (level === logLevel.ERROR && !routine) logger.error(obj, text);
      else if (level === logLevel.WARN) logger.warn(obj, text);
      else logger.debug(obj, text);
    };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) {
    throw new InvalidOptionError(`createKafka: ${name} must be a positive number of ms, got ${value}`);
  }
  return v;
}

function retryOptions(retry: KafkaRetryOptions | undefined): RetryOptions {
  const r = { ...DEFAULT_RETRY, ...retry };
  if (!Number.isSafeInteger(r.retries) || r.retries < 0) {
    throw new InvalidOptionError(`createKafka: retry.retries must be an integer >= 0, got ${r.retries}`);
  }
  positive('retry.initialRetryTime', r.initialRetryTime, 1);
  positive('retry.maxRetryTime', r.maxRetryTime, 1);
  return r;
}

/**
 * Builds a kafkajs client from the validated `kafka` config section: brokers, clientId, TLS, SASL
 * (plain, scram-sha-256, scram-sha-512), retries with exponential backoff, and logging through pino with
 * secrets scrubbed. Files are read now, so a missing CA or password file fails at startup.
 */
export function createKafka(config: KafkaConfig, options: CreateKafkaOptions): KafkaClient {
  if (config.brokers.length === 0) {
    throw new InvalidOptionError('kafka.brokers must list at least one host:port');
  }
  const security = resolveSecurity(config, options.readFile);
  const logger = options.logger.child({ component: 'kafka' });
  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: [...config.brokers],
    ...(security.ssl ? { ssl: security.ssl } : {}),
    ...(security.sasl ? { sasl: security.sasl } : {}),
    connectionTimeout: positive('connectionTimeoutMs', options.connectionTimeoutMs, 3000),
    requestTimeout: positive('requestTimeoutMs', options.requestTimeoutMs, 30_000),
    retry: retryOptions(options.retry),
    logLevel: kafkaLogLevel(logger),
    logCreator: kafkaLogCreator(logger, security.secrets),
  });
  return {
    clientId: config.clientId,
    brokers: [...config.brokers],
    logger,
    consumer: (c) => kafka.consumer(c),
    producer: (c) => kafka.producer(c),
    admin: () => kafka.admin(),
    error: (err, action) => toKafkaError(err, action, security.secrets),
  };
}
