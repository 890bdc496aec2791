/**
 * The Kafka path's own parts, each timed alone, this checkout against `--before=<commit>` (its
 * `src/kafka` in a temporary git worktree), alternating, so a loaded machine hits both alike:
 *
 * 1. the source's per-record work: kafkajs batches fetched once from a real broker, handed again and
 *    again to `ConsumerSession.eachBatch` with a no-op pipeline (credits, offsets, `toSourceRecord`);
 * 2. the output writes of one micro-batch (a few anomalies and every score) through `createKafkaSinks`,
 *    written the way `writeOutputs` does (all sinks at once), to a real broker;
 * 3. kafkajs alone: fetch and decode of the same records (a bare consumer group), the floor under 1.
 *
 * Prints the minimum and median over rounds (the minimum is the least disturbed by other processes).
 *
 *   npx tsx bench/kafka-parts.ts [--before=6a6f471] [--events=40000] [--rounds=7] [--batches=100]
 *
 * Uses KAFKA_BROKERS when set, else starts a local broker. Not a test: prints, asserts nothing.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Batch, EachBatchPayload } from 'kafkajs';
import { Observable, type Subscriber } from 'rxjs';
import { type KafkaBroker, startKafkaBroker } from '../scripts/kafka/broker.js';
import { createKafka } from '../src/kafka/index.js';
import { createLogger } from '../src/logging.js';
import { AckTracker } from '../src/streams/acks.js';
import { CreditGate } from '../src/streams/backpressure.js';
import type { ScoredEvent, SourceRecord } from '../src/streams/types.js';
import { parseBenchArgs } from './lib/args.js';
import { CURRENT, type KafkaImpl, loadBefore } from './lib/kafka-before.js';
import { benchConfig, createTopics, producedInput, rawConsume, topicName } from './lib/kafka-runs.js';
import { markdownTable, median } from './lib/stats.js';

const logger = createLogger({ level: 'warn', destination: process.stderr });
const cpuUs = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** A `ConsumerSession` constructor of either checkout (internal: not exported by the index). */
type SessionCtor = new (
  settings: unknown,
  credits: CreditGate,
  subscriber: Subscriber<SourceRecord>,
) => { eachBatch?: unknown };

/** Every batch of `count` records of `topic`, as kafkajs hands them to `eachBatch`. */
async function fetchBatches(kafka: ReturnType<typeof createKafka>, topic: string, count: number) {
  const consumer = kafka.consumer({ groupId: topicName('parts-group'), maxWaitTimeInMs: 100 });
  const batches: Batch[] = [];
  let seen = 0;
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        batches.push(batch);
        seen += batch.messages.length;
        if (seen >= count) resolve();
      },
    });
  });
  await consumer.disconnect();
  return batches;
}

/** µs of CPU and wall time for one pass of `batches` through a fresh session's `eachBatch`. */
async function emitPass(
  Session: SessionCtor,
  batches: readonly Batch[],
): Promise<{ cpu: number; wall: number }> {
  const stub = { on: () => () => undefined, events: {} };
  const client = { consumer: () => stub, logger, error: (e: unknown) => e };
  const settings = {
    client,
    groupId: 'g',
    topics: [batches[0]?.topic ?? 't'],
    start: 'earliest',
    acks: new AckTracker(),
    commitIntervalMs: 1000,
    sessionTimeoutMs: 30_000,
    heartbeatIntervalMs: 3000,
    rebalanceTimeoutMs: 60_000,
    maxWaitTimeMs: 500,
    pauseAfterMs: 500,
    maxBytesPerPartition: 1_048_576,
    lagIntervalMs: 5000,
  };
  let subscriber: Subscriber<SourceRecord> | undefined;
  new Observable<SourceRecord>((s) => {
    subscriber = s;
  }).subscribe(() => undefined);
  const session = new Session(settings, new CreditGate(1e9), subscriber!) as unknown as {
    eachBatch(p: EachBatchPayload): Promise<void>;
  };
  const payload = (batch: Batch): EachBatchPayload =>
    ({
      batch,
      resolveOffset: () => undefined,
      heartbeat: () => Promise.resolve(),
      isRunning: () => true,
      isStale: () => false,
    }) as unknown as EachBatchPayload;
  const t0 = performance.now();
  const c0 = cpuUs();
  for (const b of batches) await session.eachBatch(payload(b));
  return { cpu: cpuUs() - c0, wall: (performance.now() - t0) * 1000 };
}

/**
 * µs per micro-batch of `size` events: its alerts (1 in 100), and every event when `scores`, written as
 * `writeOutputs` does (all sinks at once).
 */
async function writePass(impl: KafkaImpl, brokers: string[], batches: number, size: number, scores: boolean) {
  const config = benchConfig(brokers, 'auto', 0, 4096, scores ? topicName('scores') : undefined);
  const kafka = impl.createKafka(config.kafka, { logger });
  const admin = kafka.admin();
  await admin.connect();
  await createTopics(
    admin,
    Object.values(config.kafka.outputs).filter((t): t is string => !!t),
    2,
  );
  await admin.disconnect();
  const sinks = await impl.createKafkaSinks(kafka, config.kafka.outputs);
  const events: ScoredEvent[] = Array.from({ length: size }, (_, i) => ({
    ref: { topic: 'in', partition: i % 4, offset: String(i) },
    timestamp: Date.now(),
    key: `entity-${i % 64}`,
    status: 'scored',
    logLikelihood: -3.2,
    anomalyScore: 0.4,
    threshold: -9.1,
    isAnomaly: i % 100 === 0,
    modelVersion: 7,
  }));
  const alerts = events.filter((e) => e.isAnomaly);
  const batch = () => Promise.all([sinks.anomalies.write(alerts), sinks.scores?.write(events)]);
  await batch(); // connect, metadata
  const t0 = performance.now();
  const c0 = cpuUs();
  for (let b = 0; b < batches; b++) await batch();
  const out = { cpu: (cpuUs() - c0) / batches, wall: ((performance.now() - t0) * 1000) / batches };
  await sinks.close();
  return out;
}

async function sessionOf(root: string | undefined): Promise<SessionCtor> {
  const path =
    root === undefined
      ? '../src/kafka/consumer-session.js'
      : pathToFileURL(`${root}/src/kafka/consumer-session.ts`).href;
  return ((await import(path)) as { ConsumerSession: SessionCtor }).ConsumerSession;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), ['before', 'events', 'rounds', 'batches']);
  const events = Number(args.values.get('events') ?? 40_000);
  const rounds = Number(args.values.get('rounds') ?? 7);
  const writeBatches = Number(args.values.get('batches') ?? 100);
  const commit = args.values.get('before') ?? '6a6f471';
  const external = process.env.KAFKA_BROKERS?.split(',').filter((b) => b.trim() !== '');
  let broker: KafkaBroker | undefined;
  if (external === undefined || external.length === 0) broker = await startKafkaBroker({ maxHeapMb: 768 });
  const brokers = external && external.length > 0 ? external : (broker?.brokers ?? []);
  const loaded = await loadBefore(commit);
  try {
    const kafka = createKafka(benchConfig(brokers, 'auto', 0, 4096).kafka, { logger });
    const { input } = await producedInput(kafka, 'parts-in', events);
    const batches = await fetchBatches(kafka, input, events);
    const impls = [
      { impl: loaded.impl, Session: await sessionOf(loaded.root) },
      { impl: CURRENT, Session: await sessionOf(undefined) },
    ];
    const emit = new Map<string, number[]>();
    const write = new Map<string, { cpu: number; wall: number }[]>();
    const alertsOnly = new Map<string, number[]>();
    const raw: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const { impl, Session } of r % 2 === 0 ? impls : [...impls].reverse()) {
        const pass = await emitPass(Session, batches);
        emit.set(impl.label, [...(emit.get(impl.label) ?? []), (1000 * pass.cpu) / events]);
        const w = await writePass(impl, brokers, writeBatches, 256, true);
        write.set(impl.label, [...(write.get(impl.label) ?? []), w]);
        const a = await writePass(impl, brokers, writeBatches, 256, false);
        alertsOnly.set(impl.label, [...(alertsOnly.get(impl.label) ?? []), a.cpu]);
      }
      raw.push(((await rawConsume(kafka, input, events)).cpuMs * 1e6) / events);
    }
    const stat = (xs: number[]): [string, string] => [Math.min(...xs).toFixed(0), median(xs).toFixed(0)];
    const out = (s: string): boolean => process.stdout.write(s);
    out(
      `\n${events} records, ${rounds} rounds, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')}\n\n`,
    );
    out(
      `${markdownTable(
        ['part', 'code', 'min', 'median', 'unit'],
        [
          ...impls.map(({ impl }) => [
            'source: eachBatch per record (no-op pipeline)',
            impl.label,
            ...stat(emit.get(impl.label)!),
            'ns CPU/record',
          ]),
          ...impls.map(({ impl }) => [
            'outputs of one micro-batch: 3 anomalies, no scores topic',
            impl.label,
            ...stat(alertsOnly.get(impl.label)!),
            'µs CPU/batch',
          ]),
          ...impls.map(({ impl }) => [
            'outputs of one micro-batch (3 anomalies + 256 scores)',
            impl.label,
            ...stat(write.get(impl.label)!.map((w) => w.cpu)),
            'µs CPU/batch',
          ]),
          ...impls.map(({ impl }) => [
            'outputs of one micro-batch (3 anomalies + 256 scores)',
            impl.label,
            ...stat(write.get(impl.label)!.map((w) => w.wall)),
            'µs wall/batch',
          ]),
          ['kafkajs fetch + decode alone (raw consume)', '-', ...stat(raw), 'ns CPU/record'],
        ],
      )}\n`,
    );
  } finally {
    await broker?.stop();
    loaded.remove();
  }
}

await main();
