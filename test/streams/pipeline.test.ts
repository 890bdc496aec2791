import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { tap } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowsentinelError, InvalidOptionError } from '../../src/errors.js';
import { AckTracker } from '../../src/streams/acks.js';
import { decodeRecord } from '../../src/streams/decode.js';
import { createFeatureSpec } from '../../src/streams/feature-spec.js';
import { generateRecords, generatorSource, MALFORMED_HEADER } from '../../src/streams/generator-source.js';
import { encodeRecordLine } from '../../src/streams/jsonl.js';
import {
  PipelineError,
  type PipelineOptions,
  type PipelineSummary,
  runPipeline,
} from '../../src/streams/pipeline.js';
import { replaySource } from '../../src/streams/replay-source.js';
import {
  JsonlFileSink,
  MemorySink,
  serializeDeadLetter,
  serializeScoredEvent,
} from '../../src/streams/sinks.js';
import { iterableSource, type RecordSource } from '../../src/streams/source.js';
import type {
  BatchDetector,
  DeadLetter,
  FeatureEvent,
  ScoredEvent,
  Sink,
  SourceRecord,
} from '../../src/streams/types.js';

const FIELDS = ['m.a', 'b', 'c', 'd'];
const spec = createFeatureSpec({ fields: FIELDS, maxRecordBytes: 2000 });
const THRESHOLD = 75;
const WARMUP = 50;

/** A fake detector on the real interface: warming for the first events, then flags features[0] > threshold. */
class ThresholdDetector implements BatchDetector {
  seen = 0;
  batches = 0;
  constructor(private readonly beforeProcess: () => Promise<void> | void = () => undefined) {}

  async process(batch: readonly FeatureEvent[]): Promise<readonly ScoredEvent[]> {
    await this.beforeProcess();
    this.batches++;
    return batch.map((e) => {
      const warming = this.seen++ < WARMUP;
      const f0 = e.features[0]!;
      return {
        ref: e.ref,
        timestamp: e.timestamp,
        key: e.key,
        status: warming ? 'warming' : 'scored',
        logLikelihood: -Math.abs(f0),
        anomalyScore: f0 > THRESHOLD ? 1 : 0,
        threshold: THRESHOLD,
        isAnomaly: !warming && f0 > THRESHOLD,
        modelVersion: this.batches,
      };
    });
  }
}

let dir: string;
let fixturePath: string;
let fixture: SourceRecord[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowsentinel-pipeline-'));
  fixture = [
    ...generateRecords({
      seed: 31,
      count: 3000,
      fields: FIELDS,
      partitions: 3,
      anomalyRate: 0.02,
      malformedRate: 0.05,
      oversizeBytes: 3000,
    }),
  ];
  fixturePath = join(dir, 'fixture.jsonl');
  await writeFile(fixturePath, `${fixture.map(encodeRecordLine).join('\n')}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const refKey = (r: { topic: string; partition: number; offset: string }): string =>
  `${r.topic}/${r.partition}/${r.offset}`;

function baseOptions(overrides: Partial<PipelineOptions> = {}): PipelineOptions {
  return {
    source: iterableSource(() => fixture),
    spec,
    batch: { maxSize: 64, maxWaitMs: Number.POSITIVE_INFINITY },
    detector: new ThresholdDetector(),
    sinks: { anomalies: new MemorySink(), scores: new MemorySink(), deadLetters: new MemorySink() },
    acks: new AckTracker(),
    highWaterMark: 256,
    ...overrides,
  };
}

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

  it('keeps a slow detector from letting a fast endless source run ahead, and drains on stop', async () => {
    const hwm = 40;
    let emitted = 0;
    let settled = 0;
    let worstLead = 0;
    const counted: RecordSource = {
      records: (gate) =>
        generatorSource({
          seed: 4,
          count: Number.POSITIVE_INFINITY,
          fields: FIELDS,
          malformedRate: 0.1,
          oversizeBytes: 3000,
        })
          .records(gate)
          .pipe(tap(() => emitted++)),
    };
    const detector = new ThresholdDetector(async () => {
      await tick(); // slower than the synchronous source
      worstLead = Math.max(worstLead, emitted - settled);
    });
    const acks = new AckTracker();
    const handle = runPipeline(
      baseOptions({
        source: counted,
        detector,
        acks,
        highWaterMark: hwm,
        batch: { maxSize: 10, maxWaitMs: 1000 },
        onBatch: (info) => {
          settled += info.events.length;
          if (detector.batches === 30) void handle.stop();
        },
        onDeadLetter: () => {
          settled++;
        },
      }),
    );
    const summary = await handle.done;
    expect(worstLead).toBeLessThanOrEqual(hwm);
    expect(summary.maxInFlight).toBeLessThanOrEqual(hwm);
    expect(summary.batches).toBeGreaterThanOrEqual(30);
    expect(summary.in).toBe(emitted);
    expect(summary.in).toBe(summary.scored + summary.warming + summary.deadLettered);
    expect(acks.pending).toBe(0);
  });

  it('flushes a partial batch after maxWaitMs while the source is idle', async () => {
    const three = fixture.filter((r) => r.headers[MALFORMED_HEADER] === undefined).slice(0, 3);
    const idle: RecordSource = iterableSource((signal) =>
      (async function* () {
        yield* three;
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      })(),
    );
    const sizes: number[] = [];
    let firstBatch: () => void = () => undefined;
    const gotBatch = new Promise<void>((resolve) => {
      firstBatch = resolve;
    });
    const handle = runPipeline(
      baseOptions({
        source: idle,
        batch: { maxSize: 100, maxWaitMs: 5 },
        onBatch: (info) => {
          sizes.push(info.events.length);
          firstBatch();
        },
      }),
    );
    await gotBatch;
    const summary = await handle.stop();
    expect(sizes).toEqual([3]);
    expect(summary.in).toBe(3);
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

describe('runPipeline failures', () => {
  it('fails with a retriable PipelineError when the detector throws a retriable error', async () => {
    const detector: BatchDetector = {
      process: () => Promise.reject(new FlowsentinelError('model busy', { retriable: true })),
    };
    const error = await runPipeline(baseOptions({ detector })).done.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PipelineError);
    expect((error as PipelineError).stage).toBe('detector');
    expect((error as PipelineError).retriable).toBe(true);
    expect((error as PipelineError).context.summary).toMatchObject({ scored: 0 });
  });

  it('fails non-retriably when the detector returns the wrong number of results', async () => {
    const detector: BatchDetector = { process: () => Promise.resolve([]) };
    const error = await runPipeline(baseOptions({ detector })).done.catch((err: unknown) => err);
    expect(error).toMatchObject({ stage: 'detector', retriable: false });
  });

  it('fails in the dead-letter sink stage when a DLQ write fails', async () => {
    const deadLetters: Sink<DeadLetter> = {
      write: () => Promise.reject(new Error('disk full')),
      close: () => Promise.resolve(),
    };
    const error = await runPipeline(
      baseOptions({ sinks: { anomalies: new MemorySink(), deadLetters } }),
    ).done.catch((err: unknown) => err);
    expect(error).toMatchObject({ stage: 'dead-letter-sink', retriable: false });
    expect((error as Error).message).toMatch(/disk full/);
  });

  it('fails in the source stage when the source cannot be read', async () => {
    const error = await runPipeline(
      baseOptions({ source: replaySource({ path: join(dir, 'missing.jsonl') }) }),
    ).done.catch((err: unknown) => err);
    expect(error).toMatchObject({ stage: 'source' });
  });

  it('validates options', () => {
    expect(() => runPipeline(baseOptions({ highWaterMark: 10 }))).toThrow(InvalidOptionError);
    expect(() => runPipeline(baseOptions({ batch: { maxSize: 0, maxWaitMs: 1 } }))).toThrow(/maxSize/);
  });
});
