/**
 * Issue 13 item 6: per-key models filled the disk (one never-deleted file per evicted key) and every new
 * key loaded or saved a full model. Now a cold key uses the global model until `perKey.minEvents`, and
 * saved models are bounded by `perKey.maxSaved` and `perKey.savedTtlMs` (oldest deleted first).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigOverrides } from '../../src/config/load.js';
import type { OnlineDetectorState } from '../../src/detector/detector-state.js';
import { createDetector, type DetectorParts } from '../../src/detector/factory.js';
import { KeyModelStore, safeKeyName } from '../../src/detector/key-model-store.js';
import { KeyedDetector } from '../../src/detector/keyed-detector.js';
import type { FeatureEvent } from '../../src/streams/types.js';
import { EventStream, smallDetectorConfig } from '../helpers/detector-data.js';

let root: string;
let dirs = 0;
const open: DetectorParts[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowsentinel-perkey-disk-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(() => {
  for (const p of open.splice(0)) p.dispose();
});

function build(perKey: ConfigOverrides['perKey'], dir: string, now?: () => number): KeyedDetector {
  const config = smallDetectorConfig({
    perKey: { enabled: true, ...perKey },
    training: { stepsPerBatch: 1, batchSize: 64 },
    checkpoint: { dir },
  });
  const parts = createDetector(config, undefined, now ? { now } : {});
  open.push(parts);
  if (!(parts.detector instanceof KeyedDetector)) throw new Error('expected a KeyedDetector');
  return parts.detector;
}

const keyed = (events: readonly FeatureEvent[], key: (i: number) => string): FeatureEvent[] =>
  events.map((e, i) => ({ ...e, key: key(i) }));

const savedFiles = async (dir: string): Promise<string[]> =>
  (await readdir(join(dir, 'keys')).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));

/** A stand-in model state: the store saves what it is given without looking inside. */
const fakeState = { tiny: true } as unknown as OnlineDetectorState;

describe('per-key models: bounded disk (issue 13 item 6)', () => {
  it('2,000 distinct keys with maxSaved 20 leave at most 20 saved files, the newest', async () => {
    const dir = join(root, `d${++dirs}`);
    let t = 0;
    // 2,000 fsynced saves keep the file well under a minute; the bound is the same claim at any count.
    const store = new KeyModelStore(dir, { maxSaved: 20, now: () => t });
    for (let k = 0; k < 2000; k++) {
      t += 1;
      await store.save(`key-${k}`, fakeState);
    }
    const names = await readdir(dir);
    expect(names.length).toBe(20);
    expect(store.size).toBe(20);
    expect(names).toContain(`${safeKeyName('key-1999')}.json`);
    expect(names).not.toContain(`${safeKeyName('key-1979')}.json`);
    expect(names).toContain(`${safeKeyName('key-1980')}.json`);
  }, 120_000);

  it('through the detector: many keys with dedicated models evicted keep at most maxSaved files', async () => {
    const dir = join(root, `d${++dirs}`);
    const det = build({ maxKeys: 2, minEvents: 0, maxSaved: 5 }, dir);
    const stream = new EventStream(5);
    for (let b = 0; b < 4; b++) await det.process(keyed(stream.batch(40), (i) => `k${b * 40 + i}`));
    expect((await savedFiles(dir)).length).toBe(5);
  });

  it('keys below minEvents never create a file, however many there are', async () => {
    const dir = join(root, `d${++dirs}`);
    const det = build({ maxKeys: 1, minEvents: 3 }, dir);
    const stream = new EventStream(6);
    // 10,000 distinct keys with 2 events each (< minEvents 3), in batches of 500.
    for (let b = 0; b < 40; b++) {
      await det.process(keyed(stream.batch(500), (i) => `cold-${b * 250 + (i % 250)}`));
    }
    expect(det.liveKeys()).toEqual([]);
    expect(await savedFiles(dir)).toEqual([]);
    expect(det.getState().keys).toEqual([]);
  }, 60_000);

  it('a key crossing minEvents gets a dedicated model, and checkpoint/restore keeps it and the cold counts', async () => {
    const dir = join(root, `d${++dirs}`);
    const a = build({ maxKeys: 4, minEvents: 50 }, dir);
    const stream = new EventStream(7);
    // 'hot' gets 30 events per batch, 'warm' 10: after 2 batches hot has 60 (≥ 50), warm 20.
    for (let b = 0; b < 2; b++) await a.process(keyed(stream.batch(40), (i) => (i < 30 ? 'hot' : 'warm')));
    expect(a.liveKeys()).toEqual([]);
    const out = await a.process(keyed(stream.batch(40), (i) => (i < 30 ? 'hot' : 'warm')));
    expect(a.liveKeys()).toEqual(['hot']);
    expect(out[0]!.modelVersion).toBeLessThan(a.global.modelVersion);
    const state = a.getState();
    expect(state.cold).toEqual([['warm', 30]]);

    const b = build({ maxKeys: 4, minEvents: 50 }, join(root, `d${++dirs}`));
    b.global.setState(JSON.parse(JSON.stringify(a.global.getState())));
    await b.setState(JSON.parse(JSON.stringify(state)));
    expect(b.liveKeys()).toEqual(['hot']);
    expect(b.peek('hot')!.getState()).toEqual(a.peek('hot')!.getState());
    const next = stream.batch(40);
    const ra = await a.process(keyed(next, (i) => (i < 30 ? 'hot' : 'warm')));
    const rb = await b.process(keyed(next, (i) => (i < 30 ? 'hot' : 'warm')));
    expect(rb).toEqual(ra);
    expect(b.liveKeys()).toEqual(['hot']);
    expect(b.getState().cold).toEqual([['warm', 40]]);
    expect(await savedFiles(dir)).toEqual([]);
  });
});

describe('per-key training cadence (perKey.trainEvery)', () => {
  it('a key model steps only in batches where its event count crosses a multiple of trainEvery', async () => {
    const det = build(
      { maxKeys: 2, minEvents: 0, trainEvery: 64, base: 'initial' },
      join(root, `d${++dirs}`),
    );
    const stream = new EventStream(8);
    const versions: number[] = [];
    for (let b = 0; b < 4; b++) {
      await det.process(keyed(stream.batch(40), () => 'a'));
      versions.push(det.peek('a')!.modelVersion);
    }
    // counts 40, 80, 120, 160: 64 is crossed in batch 2 (40 → 80), 128 in batch 4 (120 → 160).
    expect(versions).toEqual([0, 1, 1, 2]);
  });
});

describe('KeyModelStore: deletion by count and age with an injected clock', () => {
  it('deletes the oldest saved first, by savedTtlMs and by maxSaved, and keeps the order across reopen', async () => {
    const dir = join(root, `d${++dirs}`);
    let t = 1_000_000;
    const store = new KeyModelStore(dir, { maxSaved: 3, savedTtlMs: 1000, now: () => t });
    for (const k of ['a', 'b', 'c']) {
      await store.save(k, fakeState);
      t += 400;
    }
    // a at 1 000 000, b at +400, c at +800; now +1200.
    expect(['a', 'b', 'c'].map((k) => store.has(k))).toEqual([true, true, true]);
    await store.save('d', fakeState); // over maxSaved: a goes
    expect(['a', 'b', 'c', 'd'].map((k) => store.has(k))).toEqual([false, true, true, true]);
    t += 300; // now +1500: b (+400) is older than 1000 ms
    await store.prune();
    expect(['b', 'c', 'd'].map((k) => store.has(k))).toEqual([false, true, true]);
    expect((await readdir(dir)).sort()).toEqual(
      [`${safeKeyName('c')}.json`, `${safeKeyName('d')}.json`].sort(),
    );

    // A new store over the same directory rebuilds ages from the files (mtime = save time).
    t += 350; // +1850: c (+800) is past the age limit, d (+1200) is not
    const reopened = new KeyModelStore(dir, { maxSaved: 3, savedTtlMs: 1000, now: () => t });
    await reopened.open();
    expect([reopened.has('c'), reopened.has('d')]).toEqual([false, true]);
    expect(await readdir(dir)).toEqual([`${safeKeyName('d')}.json`]);
  });

  it('re-saving a key makes it the newest', async () => {
    const dir = join(root, `d${++dirs}`);
    let t = 0;
    const store = new KeyModelStore(dir, { maxSaved: 2, now: () => t });
    for (const k of ['a', 'b', 'a', 'c']) {
      t += 1;
      await store.save(k, fakeState);
    }
    expect(['a', 'b', 'c'].map((k) => store.has(k))).toEqual([true, false, true]);
  });

  it('has() is exact for keys sharing a file-name rendering, across deletion and reopen', async () => {
    const dir = join(root, `d${++dirs}`);
    let t = 0;
    const long = 'x'.repeat(60);
    const store = new KeyModelStore(dir, { maxSaved: 3, now: () => t });
    // 'a/b' and 'a_b' (and the two long keys) share the readable part of their file names.
    for (const k of ['a/b', `${long}1`, `${long}2`]) {
      t += 1;
      await store.save(k, fakeState);
    }
    expect(['a/b', 'a_b', `${long}1`, `${long}2`, `${long}3`].map((k) => store.has(k))).toEqual([
      true,
      false,
      true,
      true,
      false,
    ]);
    t += 1;
    await store.save('a_b', fakeState); // over maxSaved: 'a/b' goes
    expect(['a/b', 'a_b'].map((k) => store.has(k))).toEqual([false, true]);
    const reopened = new KeyModelStore(dir, { maxSaved: 3, now: () => t });
    await reopened.open();
    expect(['a/b', 'a_b', `${long}1`, `${long}2`].map((k) => reopened.has(k))).toEqual([
      false,
      true,
      true,
      true,
    ]);
    await reopened.clear();
    expect(reopened.has('a_b')).toBe(false);
  });
});
