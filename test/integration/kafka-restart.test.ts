import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AppConfigInput } from '../../src/config/index.js';
import { produceRecords } from '../../src/kafka/index.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import type { PipelineSummary } from '../../src/streams/pipeline.js';
import type { SourceRecord } from '../../src/streams/types.js';
import { describeKafka } from '../helpers/kafka.js';
import {
  committedOffsets,
  connectTestKafka,
  createJobTopics,
  endOffsetSum,
  fullyCommitted,
  groupName,
  jobTopicNames,
  type KafkaTestContext,
  outputCounts,
  ROOT,
  startNodeScript,
  startPipelineJob,
  waitFor,
} from '../helpers/kafka-job.js';
import { scoreAllNormal } from '../helpers/test-detectors.js';

const PARTITIONS = 4;
const FIELDS = ['f0', 'f1', 'f2'];

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

describeKafka('Kafka restarts: graceful stop and kill without commit', () => {
  let k: KafkaTestContext;
  let workDir: string;
  const createTopics = (t: ReturnType<typeof jobTopicNames>) =>
    createJobTopics(k.admin, t, { inputPartitions: PARTITIONS, outputPartitions: 2, keepForever: true });

  beforeAll(async () => {
    k = await connectTestKafka();
    workDir = await mkdtemp(join(tmpdir(), 'flowsentinel-kafka-restart-'));
  });

  afterAll(async () => {
    await k?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('a graceful stop mid-stream commits exactly what was processed, so the restart neither skips nor repeats', async () => {
    const t = jobTopicNames('graceful');
    const groupId = groupName('graceful');
    await createTopics(t);
    const input = records(5, 6000, t.input);
    await produceRecords(k.kafka, t.input, input);

    // Stop by records handled, not by batches: under load `maxWaitMs` flushes partial batches, so 15
    // batches of at most 100 were only 1,308 records in a CI run at load 19 (the old bound was 1,500).
    const handled = (s: PipelineSummary): number => s.scored + s.warming + s.deadLettered;
    const runOnce = async (stopAfterRecords: number | null): Promise<number> => {
      const job = await startPipelineJob({
        kafka: k.kafka,
        groupId,
        input: t.input,
        outputs: t.outputs,
        fields: FIELDS,
        maxRecordBytes: 4096,
        detector: scoreAll,
        batch: { maxSize: 100, maxWaitMs: 20 },
        highWaterMark: 400,
        source: { heartbeatIntervalMs: 500 },
        onBatch: (handle) => {
          if (stopAfterRecords !== null && handled(handle.summary()) >= stopAfterRecords) {
            handle.stop().catch(() => undefined);
          }
        },
      });
      if (stopAfterRecords !== null) return (await job.finish()).in;
      await waitFor(() => fullyCommitted(k.admin, groupId, t.input), 60_000, 'the rest');
      return (await job.stop()).in;
    };

    const first = await runOnce(1500);
    expect(first).toBeGreaterThanOrEqual(1500);
    expect(first).toBeLessThan(input.length);
    const committed = await committedOffsets(k.admin, groupId, t.input);
    expect([...committed.values()].reduce((a, b) => a + b, 0n)).toBe(BigInt(first));

    const second = await runOnce(null);
    expect(first + second).toBe(input.length);
    const counts = await outputCounts(k.kafka, [t.outputs.scores, t.outputs.deadLetters]);
    expect(counts.size).toBe(input.length);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('a SIGKILLed `run` loses nothing: the restart reprocesses only records past the committed offsets', async () => {
    const t = jobTopicNames('kill');
    const groupId = groupName('kill');
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
        brokers: k.brokers,
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
    const scored = (): Promise<number> => endOffsetSum(k.admin, t.outputs.scores);
    await produceRecords(k.kafka, t.input, input.slice(0, 2000));
    let killed = false;
    const rest = (async () => {
      // Keep producing while the first instance runs, about 1000 records ahead of what it scored, so the
      // kill lands mid-stream; after the kill the rest is produced at once.
      for (let i = 2000; i < input.length; i += 250) {
        await waitFor(async () => killed || (await scored()) >= i - 1000, 60_000, `${i - 1000} scored`);
        await produceRecords(k.kafka, t.input, input.slice(i, i + 250));
      }
    })();
    rest.catch(() => undefined);

    const first = startNodeScript(script, [configFile], 'the first instance');
    await waitFor(
      async () => {
        first.assertAlive();
        return (await scored()) >= 1500;
      },
      60_000,
      'the first instance to score 1500 events',
    );
    first.process.kill('SIGKILL');
    killed = true;
    expect((await first.exited).signal).toBe('SIGKILL');
    // No wait: the process is gone. A commit still in flight may land after this read, which only makes
    // atKill lower and the duplicate check below more lenient, never wrongly strict.
    const atKill = await committedOffsets(k.admin, groupId, t.input);

    await rest;
    const second = startNodeScript(script, [configFile], 'the restarted instance');
    await waitFor(
      async () => {
        second.assertAlive();
        return fullyCommitted(k.admin, groupId, t.input);
      },
      90_000,
      'the restarted instance to commit everything',
    );
    second.process.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    const summary = JSON.parse(second.stdout()) as { summary: { in: number } };
    expect(summary.summary.in).toBeGreaterThan(0);

    const counts = await outputCounts(k.kafka, [t.outputs.scores, t.outputs.deadLetters]);
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
