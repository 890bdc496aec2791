import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecordLine } from '../../src/streams/jsonl.js';
import {
  JsonlFileSink,
  MemorySink,
  SinkError,
  serializeDeadLetter,
  serializeScoredEvent,
} from '../../src/streams/sinks.js';
import type { DeadLetter, ScoredEvent } from '../../src/streams/types.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowsentinel-sinks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const scored: ScoredEvent = {
  ref: { topic: 't', partition: 1, offset: '42' },
  timestamp: 1000,
  key: 'k',
  status: 'scored',
  logLikelihood: -3.25,
  anomalyScore: 0.999,
  threshold: -20,
  isAnomaly: true,
  modelVersion: 7,
};

describe('JsonlFileSink', () => {
  it('appends one line per item in call order, also for concurrent writes', async () => {
    const path = join(dir, 'order.jsonl');
    const sink = await JsonlFileSink.open<number>({ path, serialize: (n) => JSON.stringify({ n }) });
    await Promise.all(Array.from({ length: 50 }, (_, i) => sink.write([2 * i, 2 * i + 1])));
    await sink.close();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { n: number }).n)).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    );
    expect(sink.bytesWritten).toBe((await readFile(path)).length);
  });

  it('write resolves once the bytes are in the file', async () => {
    const path = join(dir, 'visible.jsonl');
    const sink = await JsonlFileSink.open<string>({ path, serialize: JSON.stringify, mode: 'truncate' });
    await sink.write(['a']);
    expect(await readFile(path, 'utf8')).toBe('"a"\n');
    await sink.close();
  });

  it('appends to or truncates an existing file', async () => {
    const path = join(dir, 'modes.jsonl');
    await writeFile(path, '"old"\n');
    const append = await JsonlFileSink.open<string>({ path, serialize: JSON.stringify });
    await append.write(['new']);
    await append.close();
    expect(await readFile(path, 'utf8')).toBe('"old"\n"new"\n');
    const truncate = await JsonlFileSink.open<string>({ path, serialize: JSON.stringify, mode: 'truncate' });
    await truncate.write([]);
    await truncate.close();
    expect(await readFile(path, 'utf8')).toBe('');
  });

  it('close waits for pending writes; writing after close fails', async () => {
    const path = join(dir, 'close.jsonl');
    const sink = await JsonlFileSink.open<string>({ path, serialize: JSON.stringify, mode: 'truncate' });
    const pending = sink.write(['x'.repeat(100_000)]);
    await sink.close();
    await pending;
    expect((await readFile(path, 'utf8')).length).toBe(100_003);
    await expect(sink.write(['late'])).rejects.toBeInstanceOf(SinkError);
    await expect(sink.close()).resolves.toBeUndefined();
  });

  it('rejects serializers that emit newlines, and unopenable paths, as SinkError', async () => {
    const sink = await JsonlFileSink.open<string>({ path: join(dir, 'nl.jsonl'), serialize: (s) => s });
    await expect(sink.write(['a\nb'])).rejects.toThrow(/newline/);
    await sink.write(['fine']);
    await sink.close();
    await expect(
      JsonlFileSink.open({ path: join(dir, 'missing-dir', 'x.jsonl'), serialize: JSON.stringify }),
    ).rejects.toBeInstanceOf(SinkError);
  });
});

describe('MemorySink', () => {
  it('collects items and refuses writes after close', async () => {
    const sink = new MemorySink<number>();
    await sink.write([1, 2]);
    await sink.write([]);
    await sink.write([3]);
    expect(sink.items).toEqual([1, 2, 3]);
    expect(sink.writes).toBe(2);
    await sink.close();
    expect(sink.closed).toBe(true);
    await expect(sink.write([4])).rejects.toBeInstanceOf(SinkError);
  });
});

describe('serializers', () => {
  it('serializes scored events with a stable key order', () => {
    expect(serializeScoredEvent(scored)).toBe(
      '{"topic":"t","partition":1,"offset":"42","timestamp":1000,"key":"k","status":"scored",' +
        '"logLikelihood":-3.25,"anomalyScore":0.999,"threshold":-20,"isAnomaly":true,"modelVersion":7}',
    );
    expect(serializeScoredEvent({ ...scored })).toBe(serializeScoredEvent(scored));
  });

  it('keeps the original dead-letter bytes in base64, replayable as a record line', () => {
    const bytes = Uint8Array.of(0x7b, 0xff, 0x22);
    const dead: DeadLetter = {
      reason: 'not_json',
      detail: 'value is not valid UTF-8',
      record: {
        topic: 't',
        partition: 0,
        offset: '3',
        timestamp: 5,
        key: null,
        headers: { h: new TextEncoder().encode('v') },
        value: bytes,
      },
    };
    const line = serializeDeadLetter(dead);
    expect(line).toBe(
      '{"reason":"not_json","detail":"value is not valid UTF-8","topic":"t","partition":0,"offset":"3",' +
        '"timestamp":5,"key":null,"headers":{"h":"v"},"value":"e/8i","valueEncoding":"base64"}',
    );
    const replayed = parseRecordLine(line);
    expect(Array.from(replayed.value ?? [])).toEqual(Array.from(bytes));
    expect(replayed.offset).toBe('3');
    // Even valid UTF-8 values are stored as base64 in dead letters.
    expect(
      serializeDeadLetter({ ...dead, record: { ...dead.record, value: Uint8Array.of(0x61) } }),
    ).toContain('"value":"YQ==","valueEncoding":"base64"');
    expect(serializeDeadLetter({ ...dead, record: { ...dead.record, value: null } })).toContain(
      '"value":null',
    );
  });
});
