import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AppConfigInput, loadConfig } from '../../src/config/index.js';
import {
  createKafka,
  createKafkaSinks,
  type KafkaClient,
  KafkaSource,
  OUTPUT_HEADERS,
  produceRecords,
  readTopic,
} from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging.js';
import { AckTracker } from '../../src/streams/acks.js';
import { createFeatureSpec } from '../../src/streams/feature-spec.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import { type PipelineHandle, runPipeline } from '../../src/streams/pipeline.js';
import type { SourceRecord } from '../../src/streams/types.js';
import { describeKafka, kafkaBrokers, uniqueKafkaName } from '../helpers/kafka.js';
import { scoreAllNormal, waitFor } from '../helpers/test-detectors.js';

const PARTITIONS = 4;
const FIELDS = ['f0', 'f1', 'f2'];
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const text = (bytes: Uint8Array | undefined): string => (bytes ? Buffer.from(bytes).toString('utf8') : '?');
const sourceRef = (r: SourceRecord): string =>
  `${text(r.headers[OUTPUT_HEADERS.sourcePartition])}/${text(r.headers[OUTPUT_HEADERS.sourceOffset])}`;

const scoreAll = scoreAllNormal(-3);

function records(seed: number, count: number, topic: string): SourceRecord[] {
  return [
    ...generateRecords({
      seed,
      count,
      fields: FIELDS,
      partitions: PARTITIONS,
      entities: 8,
      malformedRate: 0.01,
      oversizeBytes: 5000,
      topic,
    }),
  ];
}

/** Per partition: committed offset of the group (missing → 0). */
async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map(
    (committed?.partitions ?? []).map((p) => [p.partition, BigInt(Math.max(0, Number(p.offset)))]),
  );
}

async function fullyCommitted(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const ends = await admin.fetchTopicOffsets(topic);
  const committed = await committedOffsets(admin, groupId, topic);
  return ends.every((e) => committed.get(e.partition) === BigInt(e.high));
}

/** Every input ref with how many outputs (scores + dead letters) it produced. */
async function outputCounts(kafka: KafkaClient, topics: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const topic of topics) {
    for (const r of await readTopic({ kafka, topic }))
      counts.set(sourceRef(r), (counts.get(sourceRef(r)) ?? 0) + 1);
  }
  return counts;
}

const CHILD_SCRIPT = (root: string): string => `
import { loadConfig } from '${root}src/config/index.js';
import { runKafkaDetector } from '${root}src/job/kafka.js';
import { installShutdownHandlers } from '${root}src/cli/shutdown.js';
import { createLogger } from '${root}src/logging.js';
const config = loadConfig({ file: process.argv[2], env: {} });
const logger = createLogger({ level: 'warn', destination: process.stderr });
const shutdown = installShutdownHandlers(logger, config.shutdown.timeoutMs);
const result = await runKafkaDetector({
  config, logger, signal: shutdown.signal,
  source: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, commitIntervalMs: 200 },
});
shutdown.dispose();
process.stdout.write(JSON.stringify(result) + '\\n');
`;

interface Child {
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stdout: () => string;
}

function startChild(script: string, configFile: string): Child {
  // node itself with tsx's loader, not the tsx CLI: that runs the script in a grandchild a SIGKILL would miss.
  const loader = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const child = spawn(process.execPath, ['--import', loader, script, configFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return { process: child, exited, stdout: () => out };
}

describeKafka('Kafka restarts: graceful stop and kill without commit', () => {
  let kafka: KafkaClient;
  let admin: Admin;
  let brokers: string[];
  let workDir: string;
  const retention = [{ name: 'retention.ms', value: '-1' }];

  const topicsFor = (prefix: string) => ({
    input: uniqueKafkaName(`${prefix}-in`),
    outputs: {
      anomalies: uniqueKafkaName(`${prefix}-anomalies`),
      scores: uniqueKafkaName(`${prefix}-scores`),
      deadLetters: uniqueKafkaName(`${prefix}-dlq`),
      drift: uniqueKafkaName(`${prefix}-drift`),
    },
  });

  async function createTopics(t: ReturnType<typeof topicsFor>): Promise<void> {
    await admin.createTopics({
      topics: [t.input, ...Object.values(t.outputs)].map((topic) => ({
        topic,
        numPartitions: topic === t.input ? PARTITIONS : 2,
        configEntries: retention,
      })),
      waitForLeaders: true,
    });
  }

  beforeAll(async () => {
    brokers = await kafkaBrokers();
    const config = loadConfig({ env: {}, overrides: { features: { fields: FIELDS }, kafka: { brokers } } });
    kafka = createKafka(config.kafka, {
      logger: createLogger({ level: 'warn', destination: process.stderr }),
    });
    admin = kafka.admin();
    await admin.connect();
    workDir = await mkdtemp(join(tmpdir(), 'flowsentinel-kafka-restart-'));
  });

  afterAll(async () => {
    await admin?.disconnect();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('a graceful stop mid-stream commits exactly what was processed, so the restart neither skips nor repeats', async () => {
    const t = topicsFor('graceful');
    const groupId = uniqueKafkaName('graceful-group');
    await createTopics(t);
    const input = records(5, 6000, t.input);
    await produceRecords(kafka, t.input, input);
    const spec = createFeatureSpec({ fields: FIELDS, maxRecordBytes: 4096 });

    const runOnce = async (stopAfterBatches: number | null): Promise<number> => {
      const acks = new AckTracker();
      const source = new KafkaSource({
        client: kafka,
        groupId,
        topics: [t.input],
        start: 'earliest',
        acks,
        heartbeatIntervalMs: 500,
      });
      const sinks = await createKafkaSinks(kafka, t.outputs);
      let handle: PipelineHandle | undefined;
      handle = runPipeline({
        source,
        spec,
        batch: { maxSize: 100, maxWaitMs: 20 },
        detector: scoreAll,
        sinks,
        acks,
        highWaterMark: 400,
        onBatch: () => {
          if (
            stopAfterBatches !== null &&
            handle !== undefined &&
            handle.summary().batches >= stopAfterBatches
          ) {
            handle.stop().catch(() => undefined);
          }
        },
      });
      if (stopAfterBatches === null)
        await waitFor(() => fullyCommitted(admin, groupId, t.input), 60_000, 'the rest');
      const summary = await (stopAfterBatches === null ? handle.stop() : handle.done);
      await source.close();
      await sinks.close();
      return summary.in;
    };

    const first = await runOnce(15);
    expect(first).toBeGreaterThanOrEqual(1500);
    expect(first).toBeLessThan(input.length);
    const committed = await committedOffsets(admin, groupId, t.input);
    expect([...committed.values()].reduce((a, b) => a + b, 0n)).toBe(BigInt(first));

    const second = await runOnce(null);
    expect(first + second).toBe(input.length);
    const counts = await outputCounts(kafka, [t.outputs.scores, t.outputs.deadLetters]);
    expect(counts.size).toBe(input.length);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('a SIGKILLed `run` loses nothing: the restart reprocesses only records past the committed offsets', async () => {
    const t = topicsFor('kill');
    const groupId = uniqueKafkaName('kill-group');
    await createTopics(t);
    const config: AppConfigInput = {
      features: { fields: FIELDS, maxRecordBytes: 4096 },
      model: { type: 'realnvp', layers: 2, hidden: 8 },
      training: { batchSize: 64, replayReservoir: { size: 500 } },
      warmup: { events: 300 },
      threshold: { policy: 'static', logLikelihood: -30 },
      batching: { maxSize: 64, maxWaitMs: 20, highWaterMark: 256 },
      metrics: { enabled: false },
      kafka: {
        brokers,
        clientId: 'kafka-restart-child',
        groupId,
        topics: [t.input],
        start: 'earliest',
        outputs: t.outputs,
      },
      log: { level: 'warn' },
      shutdown: { timeoutMs: 30_000 },
    };
    const configFile = join(workDir, 'kill.json');
    await writeFile(configFile, JSON.stringify(config));
    const script = join(workDir, 'child.mts'); // ESM whatever the temp dir's package scope
    await writeFile(script, CHILD_SCRIPT(ROOT));

    const input = records(9, 8000, t.input);
    await produceRecords(kafka, t.input, input.slice(0, 2000));
    const rest = (async () => {
      // Keep producing while the first instance runs, so the kill lands mid-stream.
      for (let i = 2000; i < input.length; i += 250) {
        await produceRecords(kafka, t.input, input.slice(i, i + 250));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    rest.catch(() => undefined);

    const first = startChild(script, configFile);
    const scored = async (): Promise<number> =>
      (await admin.fetchTopicOffsets(t.outputs.scores)).reduce((sum, p) => sum + Number(p.high), 0);
    await waitFor(
      async () => {
        if (first.process.exitCode !== null)
          throw new Error(`the first instance exited early: ${first.process.exitCode}`);
        return (await scored()) >= 1500;
      },
      60_000,
      'the first instance to score 1500 events',
    );
    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    // No wait: the process is gone. A commit still in flight may land after this read, which only makes
    // atKill lower and the duplicate check below more lenient, never wrongly strict.
    const atKill = await committedOffsets(admin, groupId, t.input);

    await rest;
    const second = startChild(script, configFile);
    await waitFor(
      () => fullyCommitted(admin, groupId, t.input),
      90_000,
      'the restarted instance to commit everything',
    );
    second.process.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    const summary = JSON.parse(second.stdout()) as { summary: { in: number } };
    expect(summary.summary.in).toBeGreaterThan(0);

    const counts = await outputCounts(kafka, [t.outputs.scores, t.outputs.deadLetters]);
    const expected = input.map((r) => `${r.partition}/${r.offset}`);
    expect(expected.filter((ref) => !counts.has(ref))).toEqual([]);
    // Duplicates only where the first instance had not committed yet: the in-flight window.
    const duplicates = [...counts].filter(([, n]) => n > 1).map(([ref]) => ref);
    const belowCommitted = duplicates.filter((ref) => {
      const [p = '', o = ''] = ref.split('/');
      return BigInt(o) < (atKill.get(Number(p)) ?? 0n);
    });
    expect(belowCommitted).toEqual([]);
    expect(counts.size).toBe(input.length);
  });
});
