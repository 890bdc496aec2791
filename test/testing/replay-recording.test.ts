/** `flowsentinel/testing`: recordOf, writeRecording and replayRecording through the real job. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { parseRecordLine } from '../../src/streams/jsonl.js';
import {
  createRng,
  type RecordInput,
  recordOf,
  replayRecording,
  writeRecording,
} from '../../src/testing/index.js';

const text = (b: Uint8Array | null | undefined) => (b == null ? null : new TextDecoder().decode(b));
const CONFIG = { features: { fields: ['x', 'y'] }, model: { layers: 2, hidden: 8 }, warmup: { events: 50 } };

function sample(n: number, extra: RecordInput[] = []) {
  const rng = createRng(3);
  const inputs: RecordInput[] = Array.from({ length: n }, (_, i) => ({
    key: `k${i % 3}`,
    partition: i % 2,
    value: { x: rng.normal(), y: rng.normal() },
  }));
  return recordOf([...inputs, ...extra]);
}

describe('recordOf', () => {
  it('assigns offsets per partition in order, continues timestamps, JSON-encodes object values', () => {
    const records = recordOf(
      [
        { value: { cpu: 1 }, key: 'host-1', timestamp: 5000, headers: { trace: 'abc' } },
        { value: 'raw text', partition: 1 },
        { value: null, key: null },
        { value: [1, 2], topic: 'other', timestamp: 100 },
      ],
      { topic: 't', intervalMs: 10 },
    );
    expect(records.map((r) => [r.topic, r.partition, r.offset, r.timestamp])).toEqual([
      ['t', 0, '0', 5000],
      ['t', 1, '0', 5010],
      ['t', 0, '1', 5020],
      ['other', 0, '0', 100],
    ]);
    expect(records.map((r) => text(r.value))).toEqual(['{"cpu":1}', 'raw text', null, '[1,2]']);
    expect(text(records[0]?.key)).toBe('host-1');
    expect(records[2]?.key).toBeNull();
    expect(text(records[0]?.headers.trace)).toBe('abc');
  });

  it('rejects a negative partition and a value JSON cannot encode, naming the record', () => {
    expect(() => recordOf([{ value: {}, partition: -1 }])).toThrow(/record 0 partition/);
    expect(() => recordOf([{ value: {} }, { value: () => 1 }])).toThrow(
      /record 1 has no JSON-encodable value/,
    );
  });
});

describe('replayRecording', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowsentinel-testing-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the same typed results from records and from their JSONL recording file', async () => {
    const records = sample(300, [{ value: 'not json' }]);
    const file = join(dir, 'sample.jsonl');
    await writeRecording(file, records);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => parseRecordLine(l))).toEqual(records);

    const fromMemory = await replayRecording(records, CONFIG);
    const fromFile = await replayRecording(file, CONFIG);
    expect(fromMemory.summary).toMatchObject({ in: 301, deadLettered: 1, malformedLines: 0 });
    expect(fromMemory.scores).toHaveLength(300);
    expect(fromMemory.deadLetters.map((d) => d.reason)).toEqual(['not_json']);
    expect(fromMemory.scores.slice(0, 50).every((s) => s.status === 'warming')).toBe(true);
    expect(fromFile.scores).toEqual(fromMemory.scores);
    expect(fromFile.anomalies).toEqual(fromMemory.anomalies);
    expect(fromFile.summary).toEqual(fromMemory.summary);
  });

  it('takes the config as a file, a readonly (as const) object or a loaded AppConfig, with the same result', async () => {
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify(CONFIG));
    const frozen = { ...CONFIG, features: { fields: ['x', 'y'] as const } } as const;
    const records = sample(120);
    const fromObject = await replayRecording(records, CONFIG);
    expect(fromObject.scores).toHaveLength(120);
    expect((await replayRecording(records, file)).scores).toEqual(fromObject.scores);
    expect((await replayRecording(records, frozen)).scores).toEqual(fromObject.scores);
    const loaded = loadConfig({ file, env: {} });
    expect((await replayRecording(records, loaded)).scores).toEqual(fromObject.scores);
  });

  it('throws ConfigError for an invalid config before reading anything', async () => {
    await expect(replayRecording(sample(3), { features: { fields: [] } })).rejects.toBeInstanceOf(
      ConfigError,
    );
    await expect(replayRecording(sample(3), {})).rejects.toThrow(/features/);
  });

  it('rejects on a malformed recording line by default, and counts it with malformedLines: skip', async () => {
    const file = join(dir, 'malformed.jsonl');
    await writeRecording(file, sample(60));
    await writeFile(file, `${await readFile(file, 'utf8')}{oops\n`);
    await expect(replayRecording(file, CONFIG)).rejects.toThrow(/line 61/);
    const skipped = await replayRecording(file, CONFIG, { malformedLines: 'skip' });
    expect(skipped.summary).toMatchObject({ in: 60, malformedLines: 1 });
  });
});
