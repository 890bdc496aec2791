/**
 * Vitest globalSetup: a lazy local Kafka broker shared by the whole run.
 *
 * Nothing starts here. A tiny HTTP endpoint on 127.0.0.1 (random port, random path) is provided to the
 * test files; the first Kafka test file to call `localKafka()`/`kafkaBrokers()` makes it start the broker
 * (with the SCRAM and SSL listeners), later callers share it, and teardown stops it. A run without Kafka
 * tests, or with KAFKA_BROKERS set and no security tests, never starts a JVM. Vitest does not tell a
 * globalSetup which files a run includes, so laziness is the robust way to start "only when needed".
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { TestProject } from 'vitest/node';
import { type KafkaBroker, startKafkaBroker } from '../scripts/kafka/broker.js';
import { kafkaPrerequisitesProblem } from '../scripts/kafka/prereqs.js';
import { externalKafkaBrokers, isCI, type LocalKafkaInfo } from './helpers/kafka.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const unavailable = (await kafkaPrerequisitesProblem({ security: true })) ?? null;
  if (unavailable !== null) announce(unavailable);
  let starting: Promise<KafkaBroker> | undefined;
  const brokerInfo = async (): Promise<LocalKafkaInfo> => {
    starting ??= startKafkaBroker({ security: true, maxHeapMb: 512 });
    return toInfo(await starting);
  };
  const token = randomBytes(12).toString('hex');
  const server = createServer((req, res) => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'GET' || req.url !== `/${token}/broker`) return reply(404, { error: 'not found' });
    if (unavailable !== null) return reply(503, { error: unavailable });
    brokerInfo().then(
      (info) => reply(200, info),
      (e: unknown) => reply(500, { error: e instanceof Error ? e.message : String(e) }),
    );
  });
  const port = await listen(server);
  project.provide('flowsentinelKafka', { controlUrl: `http://127.0.0.1:${port}/${token}`, unavailable });

  return async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections(); // workers' keep-alive sockets would otherwise hold close() open
    await closed;
    const broker = await starting?.catch(() => undefined);
    await broker?.stop();
  };
}

/** The one loud line: on CI Kafka tests will fail; elsewhere they are skipped. */
function announce(problem: string): void {
  const scope = externalKafkaBrokers() ? 'Kafka security tests' : 'Kafka tests';
  const line = isCI()
    ? `!!! KAFKA: local broker unavailable on CI, ${scope} in this run will FAIL: ${problem}`
    : `!!! KAFKA: local broker unavailable, ${scope} in this run are SKIPPED: ${problem}`;
  console.warn(`\n${line}\n`);
}

function toInfo(b: KafkaBroker): LocalKafkaInfo {
  if (!b.saslBrokers || !b.sslBrokers || !b.scram || !b.caFile) {
    throw new Error('local broker was started without security listeners');
  }
  const { username, password } = b.scram;
  return {
    brokers: b.brokers,
    saslBrokers: b.saslBrokers,
    sslBrokers: b.sslBrokers,
    scram: { username, password },
    caFile: b.caFile,
    version: b.version,
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no TCP address'));
      else resolve(address.port);
    });
  });
}
