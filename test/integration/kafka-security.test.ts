import { readFileSync } from 'node:fs';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  type ISocketFactory,
  Kafka,
  type KafkaConfig,
  logLevel,
  Partitioners,
  type SASLOptions,
} from 'kafkajs';
import { beforeAll, expect, it } from 'vitest';
import { createTopicsReady } from '../../scripts/kafka/readiness.js';
import { describeKafka, type LocalKafkaInfo, localKafka, uniqueKafkaName } from '../helpers/kafka.js';

/** kafkajs' default socket factory, counting every socket it opens (= connection attempts). */
function countingSocketFactory(): { factory: ISocketFactory; sockets: () => number } {
  let sockets = 0;
  const factory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
    sockets += 1;
    const socket: Socket = ssl
      ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : netConnect({ host, port }, onConnect);
    return socket;
  };
  return { factory, sockets: () => sockets };
}

type ScramMechanism = 'scram-sha-256' | 'scram-sha-512';

/** kafkajs SASL options for a SCRAM mechanism (narrows the union kafkajs types per mechanism). */
function scram(mechanism: ScramMechanism, username: string, password: string): SASLOptions {
  return mechanism === 'scram-sha-256'
    ? { mechanism, username, password }
    : { mechanism: 'scram-sha-512', username, password };
}

/** Error name and message of a rejected promise (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  const { name, message } = error as Error;
  return { name, message };
}

describeKafka(
  'Kafka security listeners (SASL/SCRAM and TLS) of the local broker',
  () => {
    let info: LocalKafkaInfo;
    let ca: string;
    const client = (config: Omit<KafkaConfig, 'clientId' | 'logLevel'>): Kafka =>
      new Kafka({ clientId: 'kafka-security-test', logLevel: logLevel.NOTHING, ...config });

    beforeAll(async () => {
      info = await localKafka();
      ca = readFileSync(info.caFile, 'utf8');
    });

    it.each(['scram-sha-256', 'scram-sha-512'] as const)(
      'accepts the right %s credentials',
      async (mechanism) => {
        const { username, password } = info.scram;
        const admin = client({
          brokers: info.saslBrokers,
          sasl: scram(mechanism, username, password),
        }).admin();
        await admin.connect();
        try {
          const cluster = await admin.describeCluster();
          // Metadata comes back with the SASL listener's advertised address.
          expect(cluster.brokers.map((b) => `${b.host}:${b.port}`)).toEqual(info.saslBrokers);
        } finally {
          await admin.disconnect();
        }
      },
    );

    it.each([
      ['scram-sha-256', 'a wrong password'],
      ['scram-sha-512', 'an unknown user'],
    ] as const)('rejects %s with %s at once, without retrying', async (mechanism, kind) => {
      const counter = countingSocketFactory();
      const username = kind === 'an unknown user' ? 'nobody' : info.scram.username;
      const password = `${info.scram.password}-wrong`;
      const admin = client({
        brokers: info.saslBrokers,
        sasl: scram(mechanism, username, password),
        socketFactory: counter.factory,
        retry: { retries: 5, initialRetryTime: 100 }, // a retry storm would show up as up to 6 sockets
      }).admin();
      const { name, message } = await rejection(admin.connect());
      await admin.disconnect();
      expect(name).toBe('KafkaJSSASLAuthenticationError');
      expect(message).toMatch(/SASL SCRAM SHA(256|512) authentication failed/);
      expect(counter.sockets()).toBe(1);
    });

    it('produces over TLS when trusting only the generated CA', async () => {
      const kafka = client({ brokers: info.sslBrokers, ssl: { ca: [ca] } });
      const topic = uniqueKafkaName('tls');
      const admin = kafka.admin();
      await admin.connect();
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      try {
        await createTopicsReady(admin, [{ topic }]);
        await producer.connect();
        await producer.send({ topic, messages: [{ key: 'k', value: 'over tls' }] });
        const offsets = await admin.fetchTopicOffsets(topic);
        expect(offsets.map((o) => o.high)).toEqual(['1']);
      } finally {
        await producer.disconnect();
        await admin.disconnect();
      }
    });

    it.each([
      ['a server name the certificate does not cover', { servername: 'not-the-broker.invalid' }, /altnames/],
      ['no trust in the generated CA', {}, /self[- ]signed certificate/],
    ] as const)('refuses TLS with %s', async (_case, tlsOverrides, expected) => {
      const counter = countingSocketFactory();
      const ssl = { ...('servername' in tlsOverrides ? { ca: [ca] } : {}), ...tlsOverrides };
      const admin = client({
        brokers: info.sslBrokers,
        ssl,
        socketFactory: counter.factory,
        retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 },
      }).admin();
      const { message } = await rejection(admin.connect());
      await admin.disconnect();
      expect(message).toMatch(expected);
      expect(counter.sockets()).toBeGreaterThanOrEqual(1);
      expect(counter.sockets()).toBeLessThanOrEqual(3); // 1 try + 2 retries, never more
    });
  },
  { security: true },
);
