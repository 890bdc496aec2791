import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigOverrides, loadConfig } from '../../src/config/load.js';
import type { AppConfig } from '../../src/config/schema.js';
import * as tf from '../../src/flow/tf.js';
import type { CheckpointDocument } from '../../src/job/checkpoint.js';
import { runReplay } from '../../src/job/replay.js';
import { runDetectorJob } from '../../src/job/run.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import { replaySource } from '../../src/streams/replay-source.js';
import { MemorySink } from '../../src/streams/sinks.js';
import type { DeadLetter, ScoredEvent } from '../../src/streams/types.js';
import { silentLogger } from '../helpers/detector-data.js';
import { readJsonl, replayConfigInput, writeFixture } from '../helpers/detector-fixtures.js';

const BATCH = 128;
const ENTITIES = 8;
const MAX_KEYS = 3;

let dir: string;
let full: string;
let firstHalf: string;
let secondHalf: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowsentinel-keyed-replay-'));
  full = join(dir, 'full.jsonl');
  await writeFixture(full, { seed: 31, count: 24 * BATCH, anomalyRate: 0.01, entities: ENTITIES });
  // Two halves on a batch boundary: replaying them one after the other cuts the same batches as the whole.
  const lines = (await readFile(full, 'utf8')).split('\n').filter((l) => l.length > 0);
  firstHalf = join(dir, 'a.jsonl');
  secondHalf = join(dir, 'b.jsonl');
  await writeFile(firstHalf, `${lines.slice(0, 12 * BATCH).join('\n')}\n`);
  await writeFile(secondHalf, `${lines.slice(12 * BATCH).join('\n')}\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function config(checkpointDir: string): AppConfig {
  const input: ConfigOverrides = {
    ...replayConfigInput(),
    model: { type: 'realnvp', layers: 2, hidden: 16, seed: 42 },
    training: { stepsPerBatch: 1, learningRate: 0.003, batchSize: 64 },
    warmup: { events: 300 },
    threshold: { policy: 'quantile', quantile: 0.01, window: 2000 },
    batching: { maxSize: BATCH, maxWaitMs: 100 },
    perKey: {
      enabled: true,
      maxKeys: MAX_KEYS,
      base: 'global',
      reservoirSize: 200,
      minEvents: 0,
      trainEvery: 1,
    },
    checkpoint: { dir: checkpointDir, everyEvents: 0, everyMs: 0, keep: 2 },
  };
  return loadConfig({ env: {}, overrides: input });
}

async function newest(d: string): Promise<CheckpointDocument> {
  const names = (await readdir(d)).filter((n) => n.startsWith('checkpoint-')).sort();
  return JSON.parse(await readFile(join(d, names.at(-1)!), 'utf8')) as CheckpointDocument;
}

async function keyFiles(d: string): Promise<Map<string, string>> {
  const names = (await readdir(join(d, 'keys'))).sort();
  return new Map(
    await Promise.all(names.map(async (n) => [n, await readFile(join(d, 'keys', n), 'utf8')] as const)),
  );
}

describe('per-key models in a replay', () => {
  it('stopping, checkpointing and restarting (live keys restored, evicted keys loaded) changes nothing', async () => {
    const split = join(dir, 'split');
    const whole = join(dir, 'whole');
    const logger = silentLogger();
    const a = await runReplay(config(split), logger, {
      file: firstHalf,
      outDir: join(dir, 'out-a'),
      speed: 'max',
    });
    expect(a.checkpoint?.restored).toBeUndefined();
    const afterA = await newest(split);
    expect(afterA.keys?.keys.length).toBe(MAX_KEYS);
    // Every key not live has a file, and so has at least one live key (evicted, then reloaded: its file
    // stays until it is evicted again). Not necessarily every key: evictions spare the keys still to be
    // processed in the batch, so a key may stay live throughout.
    expect((await keyFiles(split)).size).toBeGreaterThan(ENTITIES - MAX_KEYS);

    const b = await runReplay(config(split), logger, {
      file: secondHalf,
      outDir: join(dir, 'out-b'),
      speed: 'max',
    });
    expect(b.checkpoint).toMatchObject({ restoredEvents: 12 * BATCH, resumed: false });
    const w = await runReplay(config(whole), logger, {
      file: full,
      outDir: join(dir, 'out-w'),
      speed: 'max',
    });
    expect(w.in).toBe(a.in + b.in);

    const [docSplit, docWhole] = [await newest(split), await newest(whole)];
    expect(docSplit.eventsSeen).toBe(24 * BATCH);
    expect(docSplit.detector).toEqual(docWhole.detector);
    expect(docSplit.keys).toEqual(docWhole.keys);
    expect(await keyFiles(split)).toEqual(await keyFiles(whole));
    const scoresB = await readJsonl<{ offset: string }>(join(dir, 'out-b', 'scores.jsonl'));
    const scoresW = await readJsonl<{ offset: string }>(join(dir, 'out-w', 'scores.jsonl'));
    expect(scoresB).toEqual(scoresW.slice(12 * BATCH));
  });

  it('keeps tensors flat at the key limit and counts evictions and loads', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const tensors: number[] = [];
    const before = tf.memory().numTensors;
    const result = await runDetectorJob({
      config: config(join(dir, 'memory')),
      logger: silentLogger(),
      source: replaySource({ path: full }),
      sinks: { anomalies: new MemorySink<ScoredEvent>(), deadLetters: new MemorySink<DeadLetter>() },
      registry,
      serveMetrics: false,
      maxWaitMs: Number.POSITIVE_INFINITY,
      onBatch: () => {
        tensors.push(tf.memory().numTensors);
      },
    });
    const value = async (name: string): Promise<number> =>
      (await registry.getSingleMetric(name)?.get())?.values[0]?.value ?? Number.NaN;
    expect(result.parts.keyed?.liveKeys().length).toBe(MAX_KEYS);
    expect(await value('flowsentinel_keyed_models_active')).toBe(MAX_KEYS);
    const evictions = await value('flowsentinel_keyed_model_evictions_total');
    expect(evictions).toBeGreaterThan(24 * (ENTITIES - MAX_KEYS) - 10);
    expect(await value('flowsentinel_keyed_model_loads_total')).toBe(evictions - (ENTITIES - MAX_KEYS));
    result.parts.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(tensors).toHaveLength(24);
    // From the first batch on, ENTITIES keys cycle through MAX_KEYS live models: the count never moves.
    expect(new Set(tensors).size).toBe(1);
  });
});
