import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { DriftEvent } from '../../src/detector/drift.js';
import { type JobResult, runDetectorJob } from '../../src/job/run.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import { encodeRecordLine } from '../../src/streams/jsonl.js';
import { replaySource } from '../../src/streams/replay-source.js';
import { MemorySink } from '../../src/streams/sinks.js';
import type { DeadLetter, ScoredEvent, SourceRecord } from '../../src/streams/types.js';
import { silentLogger } from '../helpers/detector-data.js';
import { FIXTURE_FIELDS, testBackend } from '../helpers/detector-fixtures.js';

const COUNT = 2000;
/** entity-3 owns every 4th record; its 50 records from index 1203 on (1203, 1207, …, 1399) are the burst. */
const BURST = Array.from({ length: 50 }, (_, i) => 1203 + 4 * i);

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Clean seeded records, 1 s apart, four entities; the burst records get f0 + 1000 (hundreds of σ). */
function burstRecords(): SourceRecord[] {
  const burst = new Set(BURST);
  const records = generateRecords({
    seed: 23,
    count: COUNT,
    fields: FIXTURE_FIELDS,
    entities: 4,
    intervalMs: 1000,
    anomalyRate: 0,
  });
  return [...records].map((r, i) => {
    if (!burst.has(i)) return r;
    const value = JSON.parse(dec.decode(r.value!)) as Record<string, number>;
    value.f0! += 1000;
    return { ...r, value: enc.encode(JSON.stringify(value)) };
  });
}

let dir: string;
let records: SourceRecord[];
let result: JobResult;
const sinks = {
  anomalies: new MemorySink<ScoredEvent>(),
  scores: new MemorySink<ScoredEvent>(),
  deadLetters: new MemorySink<DeadLetter>(),
  drift: new MemorySink<DriftEvent>(),
};

describe('alert suppression on a replay: a burst of 50 anomalies from one key', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowsentinel-suppression-'));
    records = burstRecords();
    const file = join(dir, 'burst.jsonl');
    await writeFile(file, `${records.map(encodeRecordLine).join('\n')}\n`);
    const config = loadConfig({
      env: {},
      overrides: {
        backend: testBackend(),
        features: { fields: [...FIXTURE_FIELDS] },
        model: { type: 'realnvp', layers: 2, hidden: 16, seed: 42 },
        training: { stepsPerBatch: 2, learningRate: 0.003, batchSize: 256 },
        warmup: { events: 500 },
        // Normal events score −36…−10 nats here, the burst below −17 000: a fixed threshold isolates the burst.
        threshold: { policy: 'static', logLikelihood: -100 },
        batching: { maxSize: 100 },
        suppression: { enabled: true, mode: 'episode', quietMs: 60_000 },
        metrics: { enabled: false },
      },
    });
    result = await runDetectorJob({
      config,
      logger: silentLogger(),
      source: replaySource({ path: file, speed: 'max' }),
      sinks,
      serveMetrics: false,
      maxWaitMs: Number.POSITIVE_INFINITY,
    });
    result.parts.dispose();
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('flags exactly the 50 burst events', () => {
    const flagged = sinks.scores.items.filter((s) => s.isAnomaly).map((s) => Number(s.ref.offset));
    expect(flagged).toEqual(BURST);
    expect(result.summary.anomalies).toBe(50);
  });

  it('writes one alert, the first of the burst, and counts 49 suppressed', () => {
    const first = records[BURST[0]!]!;
    expect(result.summary).toMatchObject({ alerts: 1, suppressed: 49 });
    expect(sinks.anomalies.items).toHaveLength(1);
    const alert = sinks.anomalies.items[0]!;
    expect(alert.ref.offset).toBe(first.offset);
    expect(alert.key).toBe('entity-3');
    expect(alert.episode).toEqual({ id: `entity-3@${first.timestamp}`, count: 1, suppressed: 0 });
    expect(result.suppressor?.stats()).toMatchObject({ alerts: 1, suppressed: 49 });
  });

  it('keeps every suppressed anomaly in the scores sink with its episode count so far', () => {
    const flagged = sinks.scores.items.filter((s) => s.isAnomaly);
    flagged.forEach((s, i) => {
      expect(s.episode).toEqual({
        id: `entity-3@${records[BURST[0]!]!.timestamp}`,
        count: i + 1,
        suppressed: i,
      });
    });
    expect(sinks.scores.items.filter((s) => !s.isAnomaly).every((s) => s.episode === undefined)).toBe(true);
  });

  it('acknowledges suppressed anomalies: the commit position reaches the end of the file', () => {
    expect(result.summary.committed).toEqual([
      { topic: 'events', partition: 0, offset: String(COUNT - 1), commitOffset: String(COUNT) },
    ]);
    expect(result.summary.in).toBe(result.summary.scored + result.summary.warming);
  });

  it('exports the suppressed count as flowsentinel_alerts_suppressed_total', async () => {
    const text = await result.registry.metrics();
    expect(text).toMatch(/^flowsentinel_alerts_suppressed_total 49$/m);
  });
});
