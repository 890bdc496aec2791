/**
 * Regression (issue 13, item 2): after a long broker outage the producer gave up, the process neither
 * exited nor recovered (kafkajs's consumer-restart timer kept it alive, kafkajs issue 852) and needed a
 * SIGTERM. Against a real broker of its own (frozen with SIGSTOP, so every request goes unanswered, then
 * thawed with SIGCONT): `flowsentinel run` reports not ready once the broker has been unreachable for
 * `health.stallMs`, exits non-zero once it has been unreachable for `kafka.outageToleranceMs`, and a
 * restart after the broker is back loses nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type KafkaBroker, startKafkaBroker } from '../../scripts/kafka/broker.js';
import { type AppConfigInput, loadConfig } from '../../src/config/index.js';
import {
  createKafka,
  type KafkaClient,
  OUTPUT_HEADERS,
  produceRecords,
  readTopic,
} from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging.js';
import type { SourceRecord } from '../../src/streams/types.js';
import { describeKafka, uniqueKafkaName } from '../helpers/kafka.js';
import { waitFor } from '../helpers/test-detectors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PARTITIONS = 2;
/** Recent event times: the broker deletes records older than its 7-day default retention. */
const NOW = Date.now();
const TOLERANCE_MS = 8000;

interface Child {
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stderr: () => string;
}

function startRun(configFile: string): Child {
  const loader = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const child = spawn(
    process.execPath,
    ['--import', loader, join(ROOT, 'src/cli/main.ts'), 'run', '--config', configFile],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return { process: child, exited, stderr: () => err };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function records(topic: string, from: number, count: number): SourceRecord[] {
  const enc = new TextEncoder();
  return Array.from({ length: count }, (_, j) => {
    const i = from + j;
    return {
      topic,
      partition: i % PARTITIONS,
      offset: '0',
      timestamp: NOW + i,
      key: enc.encode(`k${i % 5}`),
      headers: {},
      value: enc.encode(JSON.stringify({ a: Math.sin(i), b: Math.cos(i) })),
    };
  });
}

describeKafka('regression: a broker outage longer than kafka.outageToleranceMs', () => {
  let broker: KafkaBroker;
  let kafka: KafkaClient;
  let admin: Admin;
  let workDir: string;

  beforeAll(async () => {
    // A broker of its own: freezing the shared one would stall every other Kafka test file.
    broker = await startKafkaBroker({ maxHeapMb: 384 });
    const config = loadConfig({
      env: {},
      overrides: { features: { fields: ['a'] }, kafka: { brokers: broker.brokers } },
    });
    kafka = createKafka(config.kafka, {
      logger: createLogger({ level: 'warn', destination: process.stderr }),
    });
    admin = kafka.admin();
    await admin.connect();
    workDir = await mkdtemp(join(tmpdir(), 'flowsentinel-outage-'));
  });

  afterAll(async () => {
    if (broker) process.kill(broker.pid, 'SIGCONT');
    await admin?.disconnect();
    await broker?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('reports not ready, exits non-zero after the tolerance, and a restart loses nothing', async () => {
    const t = {
      input: uniqueKafkaName('outage-in'),
      anomalies: uniqueKafkaName('outage-anomalies'),
      scores: uniqueKafkaName('outage-scores'),
      deadLetters: uniqueKafkaName('outage-dlq'),
      drift: uniqueKafkaName('outage-drift'),
    };
    const groupId = uniqueKafkaName('outage-group');
    await admin.createTopics({
      topics: [t.input, t.anomalies, t.scores, t.deadLetters, t.drift].map((topic) => ({
        topic,
        numPartitions: topic === t.input ? PARTITIONS : 1,
      })),
      waitForLeaders: true,
    });
    await produceRecords(kafka, t.input, records(t.input, 0, 300));
    const port = await freePort();
    const config: AppConfigInput = {
      features: { fields: ['a', 'b'] },
      model: { type: 'realnvp', layers: 2, hidden: 8 },
      training: { batchSize: 32, replayReservoir: { size: 200 } },
      warmup: { events: 50 },
      threshold: { policy: 'static', logLikelihood: -30 },
      batching: { maxSize: 50, maxWaitMs: 20, highWaterMark: 200 },
      metrics: { enabled: true, port, host: '127.0.0.1' },
      health: { stallMs: 2000 },
      shutdown: { timeoutMs: 5000 },
      log: { level: 'warn' },
      kafka: {
        brokers: broker.brokers,
        clientId: 'outage-test',
        groupId,
        topics: [t.input],
        start: 'earliest',
        outageToleranceMs: TOLERANCE_MS,
        outputs: { anomalies: t.anomalies, scores: t.scores, deadLetters: t.deadLetters, drift: t.drift },
      },
    };
    const configFile = join(workDir, 'run.json');
    await writeFile(configFile, JSON.stringify(config));
    const readyz = async (): Promise<{ status: number; body: string }> => {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return res === undefined ? { status: 0, body: '' } : { status: res.status, body: await res.text() };
    };
    const fullyCommitted = async (): Promise<boolean> => {
      const ends = await admin.fetchTopicOffsets(t.input);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [t.input] });
      const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
      return ends.every((e) => at.get(e.partition) === e.high);
    };

    const first = startRun(configFile);
    const alive = (c: Child) => () => {
      if (c.process.exitCode !== null) throw new Error(`run exited early: ${c.stderr()}`);
    };
    await waitFor(
      async () => {
        alive(first)();
        return (await readyz()).status === 200 && (await fullyCommitted());
      },
      90_000,
      'the first run to be ready and to commit the first records',
    );

    process.kill(broker.pid, 'SIGSTOP');
    let notReady = { status: 0, body: '' };
    await waitFor(
      async () => {
        alive(first)();
        notReady = await readyz();
        return notReady.status === 503;
      },
      TOLERANCE_MS,
      '/readyz to turn 503 while the broker is unreachable',
    );
    expect(JSON.parse(notReady.body).reason).toMatch(
      /^Kafka unreachable for [\d.]+ s \(health\.stallMs 2\.0 s\)/,
    );
    // Bound: tolerance + a watchdog tick + shutdown.timeoutMs for closing + the 2 s exit grace, with slack.
    const exit = await Promise.race([
      first.exited,
      new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 60_000)),
    ]);
    process.kill(broker.pid, 'SIGCONT');
    expect(exit).toEqual({ code: 1, signal: null });
    expect(first.stderr()).toMatch(/longer than kafka\.outageToleranceMs \(8\.0 s\)/);

    // Records produced while the first run is gone, then a restart on the thawed broker.
    await produceRecords(kafka, t.input, records(t.input, 300, 200));
    const second = startRun(configFile);
    await waitFor(
      async () => {
        alive(second)();
        return fullyCommitted();
      },
      120_000,
      'the restarted run to commit everything',
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; the restarted run logged: ${second.stderr().slice(-4000)}`);
    });
    second.process.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });

    const outputs = [
      ...(await readTopic({ kafka, topic: t.scores })),
      ...(await readTopic({ kafka, topic: t.deadLetters })),
    ];
    const text = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('utf8');
    const refs = new Set(
      outputs.map(
        (r) =>
          `${text(r.headers[OUTPUT_HEADERS.sourcePartition])}/${text(r.headers[OUTPUT_HEADERS.sourceOffset])}`,
      ),
    );
    const expected = Array.from({ length: 500 }, (_, i) => `${i % PARTITIONS}/${Math.floor(i / PARTITIONS)}`);
    expect(expected.filter((ref) => !refs.has(ref))).toEqual([]);
  }, 300_000);
});
