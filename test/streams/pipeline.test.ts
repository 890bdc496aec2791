import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckTracker } from '../../src/streams/acks.js';
import { decodeRecord } from '../../src/streams/decode.js';
import { MALFORMED_HEADER } from '../../src/streams/generator-source.js';
import { type PipelineSummary, runPipeline } from '../../src/streams/pipeline.js';
import { replaySource } from '../../src/streams/replay-source.js';
import {
  JsonlFileSink,
  MemorySink,
  serializeDeadLetter,
  serializeScoredEvent,
} from '../../src/streams/sinks.js';
import { iterableSource } from '../../src/streams/source.js';
import type { DeadLetter, Sink, SourceRecord } from '../../src/streams/types.js';
import {
  baseOptions,
  fixture,
  refKey,
  spec,
  THRESHOLD,
  WARMUP,
  writeFixtureFile,
} from './pipeline-fixture.js';

let dir: string;
let fixturePath: string;
beforeAll(async () => {
  ({ dir, fixturePath } = await writeFixtureFile());
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function runToFiles(run: string): Promise<{ summary: PipelineSummary; files: Record<string, string> }> {
  const open = <T>(name: string, serialize: (x: T) => string) =>
    JsonlFileSink.open<T>({ path: join(dir, `${run}-${name}.jsonl`), serialize, mode: 'truncate' });
  const sinks = {
    anomalies: await open('anomalies', serializeScoredEvent),
    scores: await open('scores', serializeScoredEvent),
    deadLetters: await open('dead', serializeDeadLetter),
  };
  const acks = new AckTracker();
  const summary = await runPipeline(
    baseOptions({
      source: replaySource({ path: fixturePath }),
      sinks,
      acks,
      // Count-only batching: batch boundaries (and so model versions) do not depend on I/O timing.
      batch: { maxSize: 50, maxWaitMs: Number.POSITIVE_INFINITY },
    }),
  ).done;
  await Promise.all(Object.values(sinks).map((s) => s.close()));
  expect(acks.pending).toBe(0);
  const files: Record<string, string> = {};
  for (const name of ['anomalies', 'scores', 'dead'])
    files[name] = await readFile(join(dir, `${run}-${name}.jsonl`), 'utf8');
  return { summary, files };
}

describe('runPipeline end to end', () => {
  it('routes every record exactly once, and two runs write byte-identical outputs', async () => {
    const first = await runToFiles('a');
    const second = await runToFiles('b');
    expect(second.files).toEqual(first.files);

    const { summary, files } = first;
    const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);
    const dead = lines(files.dead!).map(
      (l) => JSON.parse(l) as { reason: string; topic: string; partition: number; offset: string },
    );
    const scores = lines(files.scores!).map(
      (l) => JSON.parse(l) as { offset: string; partition: number; topic: string; status: string },
    );
    const anomalies = lines(files.anomalies!).map(
      (l) => JSON.parse(l) as { offset: string; partition: number; topic: string },
    );

    // Every injected malformed record is dead-lettered with the announced reason, and nothing else is.
    const dec = new TextDecoder();
    const expectedDead = new Map(
      fixture.flatMap((r) => {
        const h = r.headers[MALFORMED_HEADER];
        return h === undefined ? [] : [[refKey(r), dec.decode(h)] as const];
      }),
    );
    expect(new Map(dead.map((d) => [refKey(d), d.reason]))).toEqual(expectedDead);
    expect(new Set(expectedDead.values()).size).toBe(7);

    // The anomaly sink holds exactly the scored events the fake detector flags, in arrival order per partition.
    const valid = fixture.flatMap((r) => {
      const d = decodeRecord(r, spec);
      return d.ok ? [d.event] : [];
    });
    const flagged = valid
      .slice(WARMUP)
      .filter((e) => e.features[0]! > THRESHOLD)
      .map((e) => refKey(e.ref));
    expect(flagged.length).toBeGreaterThan(0);
    expect(anomalies.map(refKey)).toEqual(flagged);
    expect(scores.map(refKey)).toEqual(valid.map((e) => refKey(e.ref)));

    // Accounting adds up.
    expect(summary.in).toBe(fixture.length);
    expect(summary.in).toBe(summary.scored + summary.warming + summary.deadLettered);
    expect(summary.warming).toBe(WARMUP);
    expect(summary.deadLettered).toBe(expectedDead.size);
    expect(summary.anomalies).toBe(flagged.length);
    const byReason = Object.fromEntries(
      Object.entries(summary.deadLetteredByReason).filter(([, n]) => n > 0),
    );
    const counted: Record<string, number> = {};
    for (const reason of expectedDead.values()) counted[reason] = (counted[reason] ?? 0) + 1;
    expect(byReason).toEqual(counted);
    expect(summary.maxInFlight).toBeLessThanOrEqual(256);

    // Everything acknowledged: each partition is committable up to its last offset.
    const last = new Map<number, string>();
    for (const r of fixture) last.set(r.partition, r.offset);
    expect(summary.committed.map((c) => [c.partition, c.offset])).toEqual([...last.entries()].sort());
  });

  it('does not commit past a dead letter whose write is still pending', async () => {
    const [v0, , v2, v3] = fixture.filter(
      (r) => r.headers[MALFORMED_HEADER] === undefined && r.partition === 0,
    );
    const bad: SourceRecord = { ...v0!, offset: '1', value: null };
    const records = [v0!, bad, { ...v2!, offset: '2' }, { ...v3!, offset: '3' }];
    let release: () => void = () => undefined;
    const slowDlq: Sink<DeadLetter> & { items: DeadLetter[] } = {
      items: [],
      write(items) {
        this.items.push(...items);
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
      close: () => Promise.resolve(),
    };
    const acks = new AckTracker();
    let batches = 0;
    let allBatches: () => void = () => undefined;
    const batchesDone = new Promise<void>((resolve) => {
      allBatches = resolve;
    });
    const handle = runPipeline(
      baseOptions({
        source: iterableSource(() => records),
        acks,
        batch: { maxSize: 1, maxWaitMs: Number.POSITIVE_INFINITY },
        sinks: { anomalies: new MemorySink(), deadLetters: slowDlq },
        onBatch: () => {
          if (++batches === 3) allBatches();
        },
      }),
    );
    await batchesDone;
    expect(acks.committable().map((c) => c.offset)).toEqual(['0']);
    release();
    const summary = await handle.done;
    expect(summary.committed.map((c) => [c.offset, c.commitOffset])).toEqual([['3', '4']]);
  });
});
