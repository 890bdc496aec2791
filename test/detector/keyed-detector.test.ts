import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigOverrides } from '../../src/config/load.js';
import { createDetector, type DetectorParts } from '../../src/detector/factory.js';
import { KeyModelStore, safeKeyName } from '../../src/detector/key-model-store.js';
import { KeyedDetector } from '../../src/detector/keyed-detector.js';
import { InvalidOptionError } from '../../src/errors.js';
import * as tf from '../../src/flow/tf.js';
import { CheckpointError } from '../../src/job/checkpoint.js';
import { createKeyedMetrics, keyedMetricsObserver } from '../../src/metrics/keyed-families.js';
import type { FeatureEvent, ScoredEvent } from '../../src/streams/types.js';
import { EventStream, smallDetectorConfig } from '../helpers/detector-data.js';

let root: string;
let dirCount = 0;
const open: DetectorParts[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowsentinel-keyed-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

afterEach(() => {
  for (const p of open.splice(0)) p.dispose();
});

/** A fresh checkpoint directory. */
function freshDir(): string {
  return join(root, `d${++dirCount}`);
}

interface Built {
  readonly parts: DetectorParts;
  readonly keyed: KeyedDetector;
  readonly registry: Registry;
}

function build(perKey: ConfigOverrides['perKey'], dir?: string, extra: ConfigOverrides = {}): Built {
  const registry = new Registry();
  const config = smallDetectorConfig({
    ...extra,
    perKey: { enabled: true, minEvents: 0, trainEvery: 1, ...perKey },
    training: { stepsPerBatch: 1, batchSize: 64 },
    ...(dir === undefined ? {} : { checkpoint: { dir } }),
  });
  const parts = createDetector(config, undefined, {
    keyedObserver: keyedMetricsObserver(createKeyedMetrics(registry)),
  });
  open.push(parts);
  if (!(parts.detector instanceof KeyedDetector)) throw new Error('expected a KeyedDetector');
  return { parts, keyed: parts.detector, registry };
}

/** `n` events; event i gets key `k<i mod keys>` (null for every `nullEvery`-th event when given). */
function keyedBatch(stream: EventStream, n: number, keys: number, offset = 0, nullEvery = 0): FeatureEvent[] {
  return stream.batch(n).map((e, i) => ({
    ...e,
    key: nullEvery > 0 && i % nullEvery === 0 ? null : `k${(i + offset) % keys}`,
  }));
}

async function metric(registry: Registry, name: string): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values[0]?.value ?? Number.NaN;
}

describe('KeyedDetector: routing', () => {
  it('sends each event to its key model and null keys to the global one, results in input order', async () => {
    const { parts, keyed } = build({ maxKeys: 10, base: 'initial' });
    const stream = new EventStream(1);
    const counts = new Map<string | null, number>();
    for (let b = 0; b < 4; b++) {
      const batch = keyedBatch(stream, 60, 3, b, 4);
      for (const e of batch) counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
      const out = await keyed.process(batch);
      expect(out.map((s) => s.ref)).toEqual(batch.map((e) => e.ref));
      expect(out.map((s) => s.key)).toEqual(batch.map((e) => e.key));
    }
    expect(keyed.eventsSeen).toBe(240);
    expect(keyed.liveKeys().sort()).toEqual(['k0', 'k1', 'k2']);
    // base 'initial': the global model sees only the unkeyed events; each key model its own.
    expect(parts.global.eventsSeen).toBe(counts.get(null));
    for (const k of ['k0', 'k1', 'k2']) expect(keyed.peek(k)?.eventsSeen).toBe(counts.get(k));
  });

  it("base 'global': the global model learns every event and a new key starts as a copy of it", async () => {
    const { parts, keyed } = build({ maxKeys: 10, base: 'global' });
    const stream = new EventStream(2);
    for (let b = 0; b < 4; b++) await keyed.process(keyedBatch(stream, 50, 2));
    expect(parts.global.eventsSeen).toBe(200);
    const before = parts.global.getState({ withReservoir: false });
    const [first] = await keyed.process([{ ...stream.batch(1)[0]!, key: 'newcomer' }]);
    const copy = keyed.peek('newcomer');
    // The newcomer's first event was scored by the copy taken before anything learned from it.
    expect(first!.modelVersion).toBe(before.model.trainer?.step);
    expect(copy?.eventsSeen).toBe(before.eventsSeen + 1);
    expect(copy?.getState().reservoir?.capacity).toBe(1000);
    expect(() => new KeyedDetector({ ...optionsOf(keyed), maxKeys: 0 })).toThrow(InvalidOptionError);
  });
});

/** Minimal valid options, to probe the constructor's validation. */
function optionsOf(keyed: KeyedDetector): ConstructorParameters<typeof KeyedDetector>[0] {
  return { global: keyed.global, base: 'global', maxKeys: 1, createKeyDetector: () => keyed.global };
}

describe('KeyedDetector: LRU eviction and restore', () => {
  it('evicting to disk and loading back is lossless: same results as with every model kept live', async () => {
    const events = (() => {
      const s = new EventStream(3);
      return Array.from({ length: 8 }, (_, b) => keyedBatch(s, 60, 6, b));
    })();
    const all = build({ maxKeys: 8 }, freshDir());
    const fewDir = freshDir();
    const few = build({ maxKeys: 2 }, fewDir);
    const outAll: ScoredEvent[] = [];
    const outFew: ScoredEvent[] = [];
    for (const batch of events) {
      outAll.push(...(await all.keyed.process(batch)));
      outFew.push(...(await few.keyed.process(batch)));
      expect(few.keyed.liveKeys().length).toBeLessThanOrEqual(2);
    }
    expect(outFew).toEqual(outAll);
    expect(await metric(few.registry, 'flowsentinel_keyed_models_active')).toBe(2);
    const evictions = await metric(few.registry, 'flowsentinel_keyed_model_evictions_total');
    const loads = await metric(few.registry, 'flowsentinel_keyed_model_loads_total');
    expect(evictions).toBeGreaterThan(20);
    expect(loads).toBe(evictions - 4); // every eviction but the last 4 keys' came back
    expect(await metric(all.registry, 'flowsentinel_keyed_model_evictions_total')).toBe(0);
    // The evicted files hold exactly the state the live models of the other run have.
    const store = new KeyModelStore(join(fewDir, 'keys'));
    expect((await readdir(store.dir)).length).toBe(6);
    for (const key of ['k0', 'k1', 'k2', 'k3', 'k4', 'k5']) {
      if (few.keyed.peek(key) !== undefined) continue;
      const saved = await store.load(key);
      expect(saved, key).toEqual(JSON.parse(JSON.stringify(all.keyed.peek(key)!.getState())));
    }
  });

  it('keeps tensors bounded at the key limit while streaming many keys', async () => {
    const baseline = tf.memory().numTensors;
    const { parts, keyed } = build({ maxKeys: 3 }, freshDir());
    const stream = new EventStream(4);
    await keyed.process(keyedBatch(stream, 90, 30));
    const steady = tf.memory().numTensors;
    for (let b = 1; b < 12; b++) {
      await keyed.process(keyedBatch(stream, 90, 30, b * 7));
      expect(keyed.liveKeys().length).toBe(3);
      expect(tf.memory().numTensors).toBe(steady);
    }
    parts.dispose();
    open.splice(open.indexOf(parts), 1);
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('without a checkpoint directory, evicted models are discarded and come back from the base', async () => {
    const { keyed, registry } = build({ maxKeys: 1 });
    const stream = new EventStream(5);
    await keyed.process(keyedBatch(stream, 40, 2));
    await keyed.process(keyedBatch(stream, 40, 2));
    expect(await metric(registry, 'flowsentinel_keyed_model_evictions_total')).toBe(3);
    expect(await metric(registry, 'flowsentinel_keyed_model_loads_total')).toBe(0);
  });

  it('round-trips the live models through getState/setState and evicts beyond maxKeys on restore', async () => {
    const dir = freshDir();
    const a = build({ maxKeys: 4 }, dir);
    const stream = new EventStream(6);
    for (let b = 0; b < 3; b++) await a.keyed.process(keyedBatch(stream, 48, 4, b));
    const state = JSON.parse(JSON.stringify(a.keyed.getState())) as ReturnType<KeyedDetector['getState']>;
    expect(state.keys.map((k) => k.key)).toEqual(a.keyed.liveKeys());
    const b = build({ maxKeys: 4 }, freshDir());
    await b.keyed.setState(state);
    expect(b.keyed.getState()).toEqual(state);
    const small = build({ maxKeys: 2 }, dir);
    await small.keyed.setState(state);
    expect(small.keyed.liveKeys()).toEqual(state.keys.slice(2).map((k) => k.key));
    const evicted = await new KeyModelStore(join(dir, 'keys')).load(state.keys[0]!.key);
    expect(evicted).toEqual(state.keys[0]!.state);
  });
});

describe('KeyedDetector: damaged key files', () => {
  it('fails with a CheckpointError naming the file and the way out, never falling back silently', async () => {
    const dir = freshDir();
    const { keyed } = build({ maxKeys: 1 }, dir);
    const stream = new EventStream(7);
    await keyed.process(keyedBatch(stream, 20, 2)); // k0 evicted to disk
    const file = join(dir, 'keys', `${safeKeyName('k0')}.json`);
    await writeFile(file, '{"format":"flowsentinel.key-model","version":1,"key":"k0","sta');
    const err = await keyed.process(keyedBatch(stream, 1, 2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/not valid JSON/);
    expect((err as Error).message).toMatch(/Delete the file .* or run with --reset-model/);
    await writeFile(
      file,
      JSON.stringify({ format: 'flowsentinel.key-model', version: 1, key: 'other', state: {} }),
    );
    await expect(keyed.process(keyedBatch(stream, 1, 2))).rejects.toThrow(/holds the model of key "other"/);
    await writeFile(
      file,
      JSON.stringify({ format: 'flowsentinel.key-model', version: 1, key: 'k0', state: {} }),
    );
    await expect(keyed.process(keyedBatch(stream, 1, 2))).rejects.toThrow(/does not fit the configuration/);
  });

  it('names keys safely and distinctly', () => {
    expect(safeKeyName('host-1.example')).toMatch(/^host-1\.example-[0-9a-f]{16}$/);
    expect(safeKeyName('a/b')).not.toBe(safeKeyName('a_b'));
    expect(safeKeyName('../../etc/passwd')).not.toContain('/');
    expect(safeKeyName('x'.repeat(500)).length).toBeLessThan(70);
  });

  it('registers its metric families once per registry', () => {
    const registry = new Registry();
    const a = createKeyedMetrics(registry);
    const b = createKeyedMetrics(registry);
    expect(b.active).toBe(a.active);
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual([
      'flowsentinel_keyed_models_active',
      'flowsentinel_keyed_model_evictions_total',
      'flowsentinel_keyed_model_loads_total',
    ]);
  });
});
