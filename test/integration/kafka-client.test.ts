import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
  logLevel,
} from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopicsReady } from '../../scripts/kafka/readiness.js';
import { type AppConfigInput, type KafkaConfig, loadConfig } from '../../src/config/index.js';
import { InvalidOptionError } from '../../src/errors.js';
import {
  createKafka,
  createKafkaSinks,
  KafkaError,
  kafkaLogCreator,
  produceRecords,
  readTopic,
  resolveSecurity,
  toKafkaError,
} from '../../src/kafka/index.js';
import { createLogger, type Logger } from '../../src/logging.js';
import type { SourceRecord } from '../../src/streams/types.js';
import { describeKafka, type LocalKafkaInfo, localKafka, uniqueKafkaName } from '../helpers/kafka.js';

const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMIIEsecretkeymaterial\n-----END PRIVATE KEY-----\n';

/** A logger at `level` whose JSON lines are collected in `text()`. */
function capturingLogger(level: 'debug' | 'warn' = 'debug'): { logger: Logger; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger({ level, destination }), text: () => chunks.join('') };
}

function kafkaConfig(kafka: AppConfigInput['kafka']): KafkaConfig {
  return loadConfig({ env: {}, overrides: { features: { fields: ['x'] }, kafka } }).kafka;
}

const fakeFiles =
  (files: Record<string, string>) =>
  (path: string): string => {
    const content = files[path];
    if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return content;
  };

describe('Kafka client configuration, error classification and log scrubbing', () => {
  it('reads PEM from text or file paths and the SASL password from a file without its trailing newline', () => {
    const read = fakeFiles({
      '/tls/ca.pem': CA_PEM,
      '/tls/key.pem': KEY_PEM,
      '/run/secrets/pw': 's3cret-pass\r\n',
    });
    const resolved = resolveSecurity(
      {
        ssl: { ca: '/tls/ca.pem', cert: CA_PEM, key: '/tls/key.pem', rejectUnauthorized: true },
        sasl: { mechanism: 'scram-sha-512', username: 'svc', passwordFile: '/run/secrets/pw' },
      },
      read,
    );
    expect(resolved.ssl).toEqual({ rejectUnauthorized: true, ca: [CA_PEM], cert: CA_PEM, key: KEY_PEM });
    expect(resolved.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'svc', password: 's3cret-pass' });
    expect(resolved.secrets).toEqual([KEY_PEM, 's3cret-pass']);
  });

  it('fails at startup, without quoting file contents, when a CA or password file is missing or empty', () => {
    const read = fakeFiles({ '/run/secrets/empty': '\n' });
    const missing = (): unknown =>
      resolveSecurity({ ssl: { ca: '/nope/ca.pem', rejectUnauthorized: true } }, read);
    expect(missing).toThrow(KafkaError);
    expect(missing).toThrow(/kafka\.ssl\.ca file \/nope\/ca\.pem \(ENOENT\)/);
    const empty = (): unknown =>
      resolveSecurity(
        { sasl: { mechanism: 'plain', username: 'u', passwordFile: '/run/secrets/empty' } },
        read,
      );
    expect(empty).toThrow(/non-empty password/);
    try {
      empty();
    } catch (err) {
      expect(err).toMatchObject({ kind: 'config', retriable: false });
    }
  });

  it('classifies kafkajs errors: transient ones retriable, authentication/authorization/TLS fatal', () => {
    const auth = toKafkaError(
      new (KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error)(
        'SASL SCRAM SHA256 authentication failed',
      ),
      'connecting',
    );
    expect(auth).toMatchObject({ kind: 'authentication', retriable: false });
    expect(auth.message).toMatch(/connecting: authentication failed: check kafka\.sasl/);

    const acl = new KafkaJSProtocolError({
      message: 'Not authorized to access topics',
      type: 'TOPIC_AUTHORIZATION_FAILED',
      code: 29,
      retriable: false,
    } as unknown as Error);
    expect(toKafkaError(acl, 'producing')).toMatchObject({ kind: 'authorization', retriable: false });

    const tls = new KafkaJSConnectionError('Connection error: self-signed certificate', {
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    } as never);
    expect(toKafkaError(tls, 'connecting')).toMatchObject({ kind: 'tls', retriable: false });

    const leader = new KafkaJSProtocolError({
      message: 'There is no leader for this topic-partition',
      type: 'LEADER_NOT_AVAILABLE',
      code: 5,
      retriable: true,
    } as unknown as Error);
    expect(toKafkaError(leader, 'producing')).toMatchObject({ kind: 'transient', retriable: true });

    const exhausted = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection timeout'), {
      retryCount: 5,
      retryTime: 1000,
    });
    expect(toKafkaError(exhausted, 'connecting')).toMatchObject({ kind: 'transient', retriable: true });

    const already = new KafkaError('x', 'config');
    expect(toKafkaError(already, 'y')).toBe(already);
  });

  it('scrubs secrets from error messages and from every kafkajs log line', () => {
    expect(
      toKafkaError(new Error('login as bob:hunter22 failed'), 'connecting', ['hunter22']).message,
    ).not.toContain('hunter22');
    const { logger, text } = capturingLogger('debug');
    const log = kafkaLogCreator(logger, ['hunter22'])(logLevel.DEBUG);
    log({
      namespace: 'SASLAuthenticator',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: {
        timestamp: 'now',
        message: 'auth failed for hunter22',
        sasl: { mechanism: 'plain', password: 'hunter22' },
        password: 'other-secret',
        detail: { header: 'Basic hunter22' },
      },
    });
    log({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { timestamp: 'now', message: 'Response Heartbeat' },
    });
    const lines = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(text()).not.toContain('hunter22');
    expect(text()).not.toContain('other-secret');
    expect(lines[0]).toMatchObject({
      level: 50,
      kafkajs: 'SASLAuthenticator',
      sasl: '[REDACTED]',
      password: '[REDACTED]',
    });
    // Per-response protocol errors (rebalances, coordinator loading) are routine: debug, not error.
    expect(lines[1]).toMatchObject({ level: 20, msg: 'Response Heartbeat' });
  });

  it('rejects nonsensical client options', () => {
    const { logger } = capturingLogger('warn');
    expect(() => createKafka(kafkaConfig({}), { logger, retry: { retries: -1 } })).toThrow(
      InvalidOptionError,
    );
    expect(() => createKafka(kafkaConfig({}), { logger, connectionTimeoutMs: 0 })).toThrow(
      InvalidOptionError,
    );
  });
});

describeKafka(
  'Kafka client against the SCRAM and TLS listeners',
  () => {
    let info: LocalKafkaInfo;
    let dir: string;
    const records = (topic: string): SourceRecord[] =>
      Array.from({ length: 10 }, (_, i) => ({
        topic,
        partition: 0,
        offset: String(i),
        timestamp: Date.now(),
        key: new TextEncoder().encode(`k${i}`),
        headers: { h: new TextEncoder().encode(`v${i}`) },
        value: new TextEncoder().encode(JSON.stringify({ i })),
      }));

    const roundTrip = async (config: KafkaConfig, logger: Logger): Promise<SourceRecord[]> => {
      const kafka = createKafka(config, { logger });
      const topic = uniqueKafkaName('secure');
      const admin = kafka.admin();
      await admin.connect();
      try {
        await createTopicsReady(admin, [{ topic }]);
      } finally {
        await admin.disconnect();
      }
      await produceRecords(kafka, topic, records(topic));
      return readTopic({ kafka, topic });
    };

    beforeAll(async () => {
      info = await localKafka();
      dir = await mkdtemp(join(tmpdir(), 'flowsentinel-kafka-client-'));
    });

    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('produces and consumes over SCRAM-SHA-512 with the password read from a file', async () => {
      const passwordFile = join(dir, 'password');
      await writeFile(passwordFile, `${info.scram.password}\n`);
      const { logger, text } = capturingLogger('debug');
      const config = kafkaConfig({
        brokers: info.saslBrokers,
        sasl: { mechanism: 'scram-sha-512', username: info.scram.username, passwordFile },
      });
      const got = await roundTrip(config, logger);
      expect(got.map((r) => new TextDecoder().decode(r.value ?? undefined))).toEqual(
        records('t').map((r) => new TextDecoder().decode(r.value ?? undefined)),
      );
      expect(text()).not.toContain(info.scram.password);
    });

    it('fails fast with a fatal, secret-free authentication error on a wrong password', async () => {
      const wrong = `${info.scram.password}-wrong`;
      const { logger, text } = capturingLogger('debug');
      const kafka = createKafka(
        kafkaConfig({
          brokers: info.saslBrokers,
          sasl: { mechanism: 'scram-sha-256', username: info.scram.username, password: wrong },
        }),
        { logger },
      );
      const err = await createKafkaSinks(kafka, kafkaConfig({}).outputs).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KafkaError);
      expect(err).toMatchObject({ kind: 'authentication', retriable: false });
      expect((err as Error).message).toMatch(/check kafka\.sasl/);
      expect((err as Error).message).not.toContain(info.scram.password);
      expect(text()).not.toContain(info.scram.password);
    });

    it('produces and consumes over TLS trusting the CA given as a file path or as PEM text', async () => {
      const { logger } = capturingLogger('warn');
      const byPath = await roundTrip(
        kafkaConfig({ brokers: info.sslBrokers, ssl: { ca: info.caFile } }),
        logger,
      );
      expect(byPath).toHaveLength(10);
      const pem = await readFile(info.caFile, 'utf8');
      const byText = await roundTrip(kafkaConfig({ brokers: info.sslBrokers, ssl: { ca: pem } }), logger);
      expect(byText).toHaveLength(10);
    });

    it('refuses a broker certificate it cannot verify, as a fatal TLS error', async () => {
      const { logger } = capturingLogger('warn');
      const kafka = createKafka(kafkaConfig({ brokers: info.sslBrokers, ssl: {} }), {
        logger,
        retry: { retries: 1, initialRetryTime: 50 },
      });
      const err = await createKafkaSinks(kafka, kafkaConfig({}).outputs).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ kind: 'tls', retriable: false });
      expect((err as Error).message).toMatch(/check kafka\.ssl\.ca/);
    });
  },
  { security: true },
);
