/**
 * Evicted per-key models are written in the background (issue 13 item 6: evictions stalled every batch
 * on a JSON write and an fsync): one write at a time, at most `maxPendingSaves` states held, and
 * `KeyedDetector.process` returns only once its batch's writes are done.
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KeyedModelObserver } from '../../src/core/detector.js';
import { CheckpointError } from '../../src/detector/checkpoint-files.js';
import type { OnlineDetectorState } from '../../src/detector/detector-state.js';
import { createDetector, type DetectorParts } from '../../src/detector/factory.js';
import { KeyModelStore } from '../../src/detector/key-model-store.js';
import { KeyedDetector } from '../../src/detector/keyed-detector.js';
import { SaveQueue } from '../../src/detector/save-queue.js';
import { InvalidOptionError } from '../../src/errors.js';
import type { FeatureEvent } from '../../src/streams/types.js';
import { EventStream, smallDetectorConfig } from '../helpers/detector-data.js';

let root: string;
let dirs = 0;
const open: DetectorParts[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowsentinel-save-queue-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(() => {
  for (const p of open.splice(0)) p.dispose();
});

const fakeState = { tiny: true } as unknown as OnlineDetectorState;

/** File writes that block until `release()`; `started` counts writes begun, `running` those not finished. */
function gatedWrites(): {
  write: (h: FileHandle, text: string) => Promise<void>;
  release: () => void;
  counts: { started: number; running: number; maxRunning: number };
} {
  const counts = { started: 0, running: 0, maxRunning: 0 };
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    counts,
    release: () => open(),
    write: async (h, text) => {
      counts.started++;
      counts.running++;
      counts.maxRunning = Math.max(counts.maxRunning, counts.running);
      await gate;
      await h.writeFile(text, 'utf8');
      counts.running--;
    },
  };
}

/**
 * Waits until `holds()`, checking after every event-loop turn. No deadline of its own (the test's timeout
 * is the limit): `vi.waitFor` gives up after 1 s of wall clock, and what it waited for here is CPU work
 * (scoring a batch, building key models: ~300 ms at load average 13 on 2 cores), so a busier machine would
 * fail the wait, not the behaviour.
 */
async function until(holds: () => boolean): Promise<void> {
  while (!holds()) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Lets queued promise callbacks and I/O callbacks run, `turns` event-loop turns (no wall-clock wait). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('SaveQueue', () => {
  it('writes one at a time in order, holds at most maxPending, and drain waits for all', async () => {
    const dir = join(root, `d${++dirs}`);
    const g = gatedWrites();
    const q = new SaveQueue(new KeyModelStore(dir, { writeContents: g.write }), 2);
    await q.enqueue('a', fakeState);
    await q.enqueue('b', fakeState);
    expect(q.pending).toBe(2);
    let third = false;
    const enqueued = q.enqueue('c', fakeState).then(() => {
      third = true;
    });
    await until(() => g.counts.started === 1);
    await turns(20);
    expect(third).toBe(false); // 'a' is still being written: no room for a third state
    g.release();
    await enqueued;
    await q.drain();
    expect(q.pending).toBe(0);
    expect(g.counts.maxRunning).toBe(1);
    expect((await readdir(dir)).length).toBe(3);
  });

  it('waitFor(key) resolves once that key is on disk', async () => {
    const dir = join(root, `d${++dirs}`);
    const g = gatedWrites();
    const store = new KeyModelStore(dir, { writeContents: g.write });
    const q = new SaveQueue(store, 4);
    await q.enqueue('a', fakeState);
    await q.waitFor('b'); // nothing queued for 'b'
    let written = false;
    const waiting = q.waitFor('a').then(() => {
      written = true;
    });
    await until(() => g.counts.started === 1);
    await turns(20);
    expect(written).toBe(false);
    g.release();
    await waiting;
    expect(store.has('a')).toBe(true);
    expect(await store.load('a')).toEqual(fakeState);
  });

  it('a failed write is thrown by the next enqueue or drain, once', async () => {
    const dir = join(root, `d${++dirs}`);
    const enospc = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    const q = new SaveQueue(new KeyModelStore(dir, { writeContents: () => Promise.reject(enospc) }), 4);
    await q.enqueue('a', fakeState);
    await expect(q.drain()).rejects.toBeInstanceOf(CheckpointError);
    await expect(q.drain()).resolves.toBeUndefined();
  });

  it('rejects maxPending < 1', () => {
    expect(() => new SaveQueue(new KeyModelStore(join(root, 'x')), 0)).toThrow(InvalidOptionError);
  });
});

describe('KeyedDetector with background saves', () => {
  function build(
    dir: string,
    write: (h: FileHandle, text: string) => Promise<void>,
    maxKeys = 1,
    observer?: KeyedModelObserver,
  ): KeyedDetector {
    const config = smallDetectorConfig({ training: { stepsPerBatch: 1, batchSize: 64 } });
    const global = createDetector(config);
    open.push(global);
    const keyed = new KeyedDetector({
      global: global.global,
      base: 'global',
      maxKeys,
      minEvents: 0,
      // A key model is the global detector of its own (unkeyed) build; the keyed detector owns it.
      createKeyDetector: () => createDetector(config).global,
      store: new KeyModelStore(join(dir, 'keys'), { writeContents: write }),
      maxPendingSaves: 2,
      ...(observer ? { observer } : {}),
    });
    open.push({ dispose: () => keyed.dispose() } as DetectorParts);
    return keyed;
  }

  it('process returns only after its evictions are on disk, never holding more than 2 pending', async () => {
    const dir = join(root, `d${++dirs}`);
    const g = gatedWrites();
    const det = build(dir, g.write);
    const stream = new EventStream(3);
    // 6 keys in one batch with maxKeys 1: 5 evictions in the batch.
    const batch: FeatureEvent[] = stream.batch(60).map((e, i) => ({ ...e, key: `k${i % 6}` }));
    let done = false;
    const processed = det.process(batch).then((r) => {
      done = true;
      return r;
    });
    await until(() => det.pendingSaves === 2);
    await until(() => g.counts.started === 1); // the first write is blocked in the gate
    await turns(50);
    expect(done).toBe(false);
    expect(det.pendingSaves).toBe(2);
    expect(g.counts.started).toBe(1);
    g.release();
    expect((await processed).length).toBe(60);
    expect(det.pendingSaves).toBe(0);
    expect(g.counts.maxRunning).toBe(1);
    expect((await readdir(join(dir, 'keys'))).length).toBe(5);
  });

  it('an eviction spares the keys still to be processed in the batch (no save and reload of them)', async () => {
    const dir = join(root, `d${++dirs}`);
    const counts = { evictions: 0, loads: 0 };
    const observer: KeyedModelObserver = {
      onActive: () => undefined,
      onEviction: () => counts.evictions++,
      onLoad: () => counts.loads++,
    };
    const det = build(dir, (h, text) => h.writeFile(text, 'utf8'), 2, observer);
    const stream = new EventStream(4);
    const withKeys = (keys: readonly string[]): FeatureEvent[] =>
      stream.batch(keys.length * 5).map((e, i) => ({ ...e, key: keys[i % keys.length]! }));
    await det.process(withKeys(['y', 'z'])); // live: y, z (y least recently used)
    await det.process(withKeys(['x', 'y'])); // x evicts z, not y, which is still to come
    expect(counts).toEqual({ evictions: 1, loads: 0 });
    expect(det.liveKeys()).toEqual(['x', 'y']);
    // More keys than maxKeys in one batch: a evicts x (both live keys are still to come), b evicts a
    // (done), x is reloaded and evicts b; y stays live. Plain LRU would also have evicted and reloaded y.
    await det.process(withKeys(['a', 'b', 'x', 'y']));
    expect(det.liveKeys()).toEqual(['x', 'y']);
    expect(counts).toEqual({ evictions: 4, loads: 1 });
  });
});
