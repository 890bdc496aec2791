/**
 * Regression (issue 13, item 2): after a long broker outage the producer gave up, the process neither
 * exited nor recovered (kafkajs's consumer-restart timer kept it alive, kafkajs issue 852) and needed a
 * SIGTERM. Against a real broker of its own (frozen with SIGSTOP, so every request goes unanswered, then
 * thawed with SIGCONT): `flowsentinel run` reports not ready once the broker has been unreachable for
 * `health.stallMs`, exits non-zero once it has been unreachable for `kafka.outageToleranceMs`, and a
 * restart after the broker is back loses nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type KafkaBroker, startKafkaBroker } from '../../scripts/kafka/broker.js';
import type { AppConfigInput } from '../../src/config/index.js';
import { produceRecords } from '../../src/kafka/index.js';
import { describeKafka } from '../helpers/kafka.js';
import {
  type CliChild,
  connectTestKafka,
  createJobTopics,
  freePort,
  fullyCommitted,
  groupName,
  httpProbe,
  jobTopicNames,
  type KafkaTestContext,
  outputCounts,
  roundRobinRef,
  sinCosRecords,
  startCliRun,
  waitFor,
} from '../helpers/kafka-job.js';

const PARTITIONS = 2;
const TOLERANCE_MS = 8000;
const SHUTDOWN_TIMEOUT_MS = 5000;
/**
 * Documented exit bound after the broker froze (docs/kafka.md "Outages"): the tolerance + a watchdog tick
 * (1 s) + shutdown.timeoutMs for closing + the 2 s exit grace; doubled for a loaded CI machine.
 */
const EXIT_BOUND_MS = 2 * (TOLERANCE_MS + 1000 + SHUTDOWN_TIMEOUT_MS + 2000);

describeKafka('regression: a broker outage longer than kafka.outageToleranceMs', () => {
  let broker: KafkaBroker;
  let k: KafkaTestContext;
  let workDir: string;

  beforeAll(async () => {
    // A broker of its own: freezing the shared one would stall every other Kafka test file.
    broker = await startKafkaBroker({ maxHeapMb: 384 });
    k = await connectTestKafka(broker.brokers);
    workDir = await mkdtemp(join(tmpdir(), 'flowsentinel-outage-'));
  });

  afterAll(async () => {
    if (broker) process.kill(broker.pid, 'SIGCONT');
    await k?.close();
    await broker?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('reports not ready, exits non-zero after the tolerance, and a restart loses nothing', async () => {
    const t = jobTopicNames('outage');
    const groupId = groupName('outage');
    await createJobTopics(k.admin, t, { inputPartitions: PARTITIONS });
    await produceRecords(k.kafka, t.input, sinCosRecords(t.input, 0, 300, PARTITIONS));
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
      shutdown: { timeoutMs: SHUTDOWN_TIMEOUT_MS },
      log: { level: 'warn' },
      kafka: {
        brokers: broker.brokers,
        clientId: 'outage-test',
        groupId,
        topics: [t.input],
        start: 'earliest',
        outageToleranceMs: TOLERANCE_MS,
        outputs: t.outputs,
      },
    };
    const configFile = join(workDir, 'run.json');
    await writeFile(configFile, JSON.stringify(config));
    const committed = () => fullyCommitted(k.admin, groupId, t.input);

    const first: CliChild = startCliRun(configFile, 'the first run');
    const readyz = httpProbe(port, () => first.assertAlive());
    await waitFor(
      async () => (await readyz('/readyz')).status === 200 && (await committed()),
      90_000,
      'the first run to be ready and to commit the first records',
    );

    process.kill(broker.pid, 'SIGSTOP');
    try {
      let notReady = { status: 0, body: '' };
      await waitFor(
        async () => {
          notReady = await readyz('/readyz');
          return notReady.status === 503;
        },
        TOLERANCE_MS,
        '/readyz to turn 503 while the broker is unreachable',
      );
      expect(JSON.parse(notReady.body).reason).toMatch(
        /^Kafka unreachable for [\d.]+ s \(health\.stallMs 2\.0 s\)/,
      );
      await waitFor(() => first.exit() !== undefined, EXIT_BOUND_MS, 'the run to exit after the tolerance');
    } finally {
      process.kill(broker.pid, 'SIGCONT');
    }
    expect(first.exit()).toEqual({ code: 1, signal: null });
    expect(first.stderr()).toMatch(/longer than kafka\.outageToleranceMs \(8\.0 s\)/);

    // Records produced while the first run is gone, then a restart on the thawed broker.
    await produceRecords(k.kafka, t.input, sinCosRecords(t.input, 300, 200, PARTITIONS));
    const second = startCliRun(configFile, 'the restarted run');
    await waitFor(
      async () => {
        second.assertAlive();
        return committed();
      },
      120_000,
      'the restarted run to commit everything',
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; the restarted run logged: ${second.stderr().slice(-4000)}`);
    });
    second.process.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });

    const counts = await outputCounts(k.kafka, [t.outputs.scores, t.outputs.deadLetters]);
    const expected = Array.from({ length: 500 }, (_, i) => roundRobinRef(i, PARTITIONS));
    expect(expected.filter((ref) => !counts.has(ref))).toEqual([]);
  }, 300_000);
});
