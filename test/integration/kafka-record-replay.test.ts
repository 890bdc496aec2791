import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { Admin } from 'kafkajs';
import { VirtualTimeScheduler } from 'rxjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTopicsReady } from '../../scripts/kafka/readiness.js';
import { registerKafkaCommands } from '../../src/cli/commands/index.js';
import { loadConfig } from '../../src/config/index.js';
import { InvalidOptionError } from '../../src/errors.js';
import {
  createKafka,
  type KafkaClient,
  KafkaError,
  produceRecords,
  readTopic,
  recordTopic,
  replayToTopic,
} from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import { parseRecordLine } from '../../src/streams/jsonl.js';
import type { SourceRecord } from '../../src/streams/types.js';
import { describeKafka, kafkaBrokers, uniqueKafkaName } from '../helpers/kafka.js';

const COUNT = 600;
const PARTITIONS = 3;

/** Generated records, some with binary keys and header values, so both JSONL encodings are exercised. */
function recording(topic: string): SourceRecord[] {
  return [
    ...generateRecords({
      seed: 77,
      count: COUNT,
      fields: ['m.x', 'm.y'],
      partitions: PARTITIONS,
      entities: 9,
      anomalyRate: 0.05,
      malformedRate: 0.1,
      oversizeBytes: 3000,
      topic,
    }),
  ].map((r, i) =>
    i % 50 === 0
      ? {
          ...r,
          key: Uint8Array.of(0xff, 0x00, 0x80, i % 256),
          headers: { ...r.headers, bin: Uint8Array.of(0xc3, 0x28) },
        }
      : r,
  );
}

async function readLines(file: string): Promise<SourceRecord[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l, i) => parseRecordLine(l, i + 1));
}

const byPosition = (a: SourceRecord, b: SourceRecord): number =>
  a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset));
const withoutTopic = ({ topic: _topic, ...rest }: SourceRecord) => rest;
const content = (r: SourceRecord) => ({
  key: r.key,
  value: r.value,
  headers: { ...r.headers },
  timestamp: r.timestamp,
});

describeKafka('record a topic and replay it into another', () => {
  const source = uniqueKafkaName('rec-src');
  const copy = uniqueKafkaName('rec-copy');
  const single = uniqueKafkaName('rec-single');
  let brokers: string[];
  let kafka: KafkaClient;
  let admin: Admin;
  let dir: string;
  let generated: SourceRecord[];
  const printed: string[] = [];

  const cli = async (...args: string[]): Promise<unknown> => {
    const program = new Command().exitOverride();
    registerKafkaCommands(program, {
      logger: () => createLogger({ level: 'warn', destination: process.stderr }),
      print: (line) => printed.push(line),
    });
    await program.parseAsync(args, { from: 'user' });
    return JSON.parse(printed.at(-1) ?? 'null');
  };

  beforeAll(async () => {
    brokers = await kafkaBrokers();
    const config = loadConfig({
      env: {},
      overrides: { features: { fields: ['unused'] }, kafka: { brokers } },
    });
    kafka = createKafka(config.kafka, {
      logger: createLogger({ level: 'warn', destination: process.stderr }),
    });
    admin = kafka.admin();
    await admin.connect();
    const retention = [{ name: 'retention.ms', value: '-1' }];
    await createTopicsReady(admin, [
      { topic: source, numPartitions: PARTITIONS, configEntries: retention },
      { topic: copy, numPartitions: PARTITIONS, configEntries: retention },
      { topic: single, numPartitions: 1, configEntries: retention },
    ]);
    generated = recording(source);
    await produceRecords(kafka, source, generated);
    dir = await mkdtemp(join(tmpdir(), 'flowsentinel-record-'));
  });

  afterAll(async () => {
    await admin?.disconnect();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('record → replay-to-topic → record gives identical keys, values, headers, timestamps and positions', async () => {
    const first = join(dir, 'first.jsonl');
    expect(
      await cli('record', '--brokers', brokers.join(','), '--topic', source, '--out', first),
    ).toMatchObject({
      records: COUNT,
      stoppedBy: 'end-offsets',
    });
    const recorded = (await readLines(first)).sort(byPosition);
    expect(recorded).toEqual([...generated].sort(byPosition));

    expect(
      await cli('replay-to-topic', first, '--to-topic', copy, '--brokers', brokers.join(',')),
    ).toMatchObject({ records: COUNT, partitioning: 'preserve', targetPartitions: PARTITIONS });
    const second = join(dir, 'second.jsonl');
    expect(await recordTopic({ kafka, topic: copy, out: second })).toEqual({
      records: COUNT,
      stoppedBy: 'end-offsets',
    });
    const rerecorded = (await readLines(second)).sort(byPosition);
    expect(rerecorded.every((r) => r.topic === copy)).toBe(true);
    expect(rerecorded.map(withoutTopic)).toEqual(recorded.map(withoutTopic));
  });

  it('replays by key into a topic with fewer partitions, keeping every record', async () => {
    const file = join(dir, 'for-single.jsonl');
    await recordTopic({ kafka, topic: source, out: file });
    expect(await replayToTopic({ kafka, file, topic: single })).toEqual({
      records: COUNT,
      partitioning: 'key',
      targetPartitions: 1,
    });
    const replayed = await readTopic({ kafka, topic: single });
    const key = (r: SourceRecord): string =>
      JSON.stringify(content(r), (_k, v) => (v instanceof Uint8Array ? [...v] : v));
    expect(replayed.map(key).sort()).toEqual(generated.map(key).sort());
  });

  it('stops at --max, and with --until-idle after the topic went quiet', async () => {
    const capped = join(dir, 'capped.jsonl');
    expect(
      await cli('record', '--brokers', brokers.join(','), '--topic', source, '--out', capped, '--max', '100'),
    ).toMatchObject({
      records: 100,
      stoppedBy: 'max',
    });
    expect(await readLines(capped)).toHaveLength(100);
    // Idle time is virtual: it passes only once every record is in. With the real clock a busy machine
    // could spend the 1 s between the group join and the first fetch, and the recording would stop early.
    const clock = new VirtualTimeScheduler();
    let allIn: () => void = () => undefined;
    const read = new Promise<void>((resolve) => {
      allIn = resolve;
    });
    const recording = recordTopic({
      kafka,
      topic: source,
      out: join(dir, 'idle.jsonl'),
      untilIdleMs: 1000,
      scheduler: clock,
      onProgress: (n) => {
        if (n >= COUNT) allIn();
      },
    });
    await Promise.race([
      read,
      recording.then((r) => {
        throw new Error(`the recording stopped before every record was read: ${JSON.stringify(r)}`);
      }),
    ]);
    clock.flush(); // 1 s passes without a record
    expect(await recording).toEqual({ records: COUNT, stoppedBy: 'idle' });
  });

  it('refuses what cannot work, with errors saying why', async () => {
    await expect(
      recordTopic({ kafka, topic: source, out: join(dir, 'x.jsonl'), from: 'latest' }),
    ).rejects.toThrow(InvalidOptionError);
    const missing = replayToTopic({
      kafka,
      file: join(dir, 'first.jsonl'),
      topic: uniqueKafkaName('missing'),
    });
    await expect(missing).rejects.toBeInstanceOf(KafkaError);
    await expect(missing).rejects.toMatchObject({ kind: 'config', retriable: false });
    await expect(
      recordTopic({ kafka, topic: uniqueKafkaName('missing'), out: join(dir, 'y.jsonl') }),
    ).rejects.toMatchObject({
      kind: 'config',
    });
  });
});
