import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigOverrides } from '../../src/config/load.js';
import type { AppConfig } from '../../src/config/schema.js';
import { createDetector, type DetectorParts } from '../../src/detector/factory.js';
import {
  type CheckpointDocument,
  CheckpointError,
  type Checkpointer,
  openCheckpoints,
} from '../../src/job/checkpoint.js';
import { AckTracker } from '../../src/streams/acks.js';
import type { FeatureEvent, SourceRecord } from '../../src/streams/types.js';
import { EventStream, silentLogger, smallDetectorConfig } from '../helpers/detector-data.js';

let root: string;
let dirCount = 0;
const open: DetectorParts[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowsentinel-checkpoint-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

afterEach(() => {
  for (const p of open.splice(0)) p.dispose();
});

function config(
  dir: string,
  checkpoint: ConfigOverrides['checkpoint'] = {},
  extra: ConfigOverrides = {},
): AppConfig {
  return smallDetectorConfig({ ...extra, checkpoint: { dir, everyEvents: 200, everyMs: 0, ...checkpoint } });
}

function parts(c: AppConfig): DetectorParts {
  const p = createDetector(c);
  open.push(p);
  return p;
}

/** Opens the checkpoints of `c` and attaches fresh parts. */
async function start(c: AppConfig, acks?: AckTracker): Promise<{ cp: Checkpointer; p: DetectorParts }> {
  const cp = await openCheckpoints({ config: c, logger: silentLogger(), ...(acks ? { acks } : {}) });
  const p = parts(c);
  await cp.attach(p);
  return { cp, p };
}

/** Processes `batches` batches like the pipeline does: process, acknowledge, then maybe checkpoint. */
async function run(
  cp: Checkpointer,
  p: DetectorParts,
  stream: EventStream,
  batches: number,
  acks?: AckTracker,
): Promise<void> {
  for (let b = 0; b < batches; b++) {
    const events = stream.batch(64);
    for (const e of events) acks?.register(recordOf(e));
    await p.detector.process(events);
    for (const e of events) acks?.ack(e.ref);
    await cp.maybeCheckpoint({ events });
  }
}

function recordOf(e: FeatureEvent): SourceRecord {
  return { ...e.ref, timestamp: e.timestamp, key: null, headers: {}, value: null };
}

async function files(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

async function readDoc(path: string): Promise<CheckpointDocument> {
  return JSON.parse(await readFile(path, 'utf8')) as CheckpointDocument;
}

describe('Checkpointer: writing', () => {
  it('writes at the first batch boundary past each multiple of everyEvents, atomically, keeping the newest 2', async () => {
    const dir = join(root, `d${++dirCount}`);
    const acks = new AckTracker();
    const { cp, p } = await start(config(dir), acks);
    const stream = new EventStream(1);
    await run(cp, p, stream, 3, acks); // 192 events: none due
    expect(await files(dir)).toEqual([]);
    await run(cp, p, stream, 10, acks); // 832 events: due at 256, 448, 640, 832
    expect(await files(dir)).toEqual(['checkpoint-00000003.json', 'checkpoint-00000004.json']);
    const doc = await readDoc(join(dir, 'checkpoint-00000004.json'));
    expect(doc).toMatchObject({
      format: 'flowsentinel.checkpoint',
      version: 1,
      sequence: 4,
      eventsSeen: 832,
    });
    expect(doc.createdAt).toBe(1_700_000_000_000 + 831 * 1000);
    expect(doc.position).toEqual([{ topic: 't', partition: 0, commitOffset: '832' }]);
    expect(doc.processed).toEqual([{ topic: 't', partition: 0, commitOffset: '832' }]);
    expect(doc.detector).toEqual(JSON.parse(JSON.stringify((p.detector as typeof p.global).getState())));
    expect(doc.keys).toBeNull();
    expect(doc.fingerprint.features).toEqual(['a', 'b', 'c']);
    expect(await cp.finalCheckpoint()).toBeUndefined(); // nothing new since the last one
    await run(cp, p, stream, 1, acks);
    expect(await cp.finalCheckpoint()).toBe(join(dir, 'checkpoint-00000005.json'));
    expect(await files(dir)).toEqual(['checkpoint-00000004.json', 'checkpoint-00000005.json']);
  });

  it('writes by wall time with everyMs, and nothing at all without a directory', async () => {
    const dir = join(root, `d${++dirCount}`);
    let clock = 0;
    const c = config(dir, { everyEvents: 0, everyMs: 1000 });
    const cp = await openCheckpoints({ config: c, logger: silentLogger(), now: () => clock });
    const p = parts(c);
    await cp.attach(p);
    const stream = new EventStream(2);
    await run(cp, p, stream, 2);
    expect(await files(dir)).toEqual([]);
    clock = 1500;
    await run(cp, p, stream, 1);
    expect(await files(dir)).toEqual(['checkpoint-00000001.json']);

    const off = smallDetectorConfig();
    const none = await openCheckpoints({ config: off, logger: silentLogger() });
    const q = parts(off);
    await none.attach(q);
    await run(none, q, stream, 1);
    expect(none.enabled).toBe(false);
    expect(await none.maybeCheckpoint()).toBe(false);
    expect(await none.finalCheckpoint()).toBeUndefined();
  });

  it('saves and restores registered extensions as opaque JSON', async () => {
    const dir = join(root, `d${++dirCount}`);
    const c = config(dir);
    const { cp, p } = await start(c);
    let state: unknown = { episodes: 3 };
    cp.register('suppression', { getState: () => state, setState: () => undefined });
    await run(cp, p, new EventStream(3), 1);
    await cp.finalCheckpoint();
    const again = await openCheckpoints({ config: c, logger: silentLogger() });
    await again.attach(parts(c));
    again.register('suppression', {
      getState: () => state,
      setState: (s) => {
        state = s;
      },
    });
    expect(state).toEqual({ episodes: 3 });
    expect(() =>
      again.register('suppression', {
        getState: () => null,
        setState: () => {
          throw new Error('bad episode table');
        },
      }),
    ).toThrow(/"suppression" state does not fit: bad episode table/);
  });
});

describe('Checkpointer: loading', () => {
  /** A directory with checkpoints 1 and 2 (after 256 and 448 events), and the detector state at each. */
  async function twoCheckpoints(): Promise<{ dir: string; c: AppConfig; states: unknown[] }> {
    const dir = join(root, `d${++dirCount}`);
    const c = config(dir, { keep: 5 });
    const { cp, p } = await start(c);
    const stream = new EventStream(4);
    const states: unknown[] = [];
    for (let b = 0; b < 7; b++) {
      await run(cp, p, stream, 1);
      if (cp.lastWritten !== undefined && states.length < (await files(dir)).length) {
        states.push(JSON.parse(JSON.stringify(p.global.getState())));
      }
    }
    expect(await files(dir)).toEqual(['checkpoint-00000001.json', 'checkpoint-00000002.json']);
    return { dir, c, states };
  }

  it('restores the newest checkpoint exactly, and continues the sequence', async () => {
    const { dir, c, states } = await twoCheckpoints();
    const { cp, p } = await start(c);
    expect(cp.loaded?.file).toBe(join(dir, 'checkpoint-00000002.json'));
    expect(p.global.getState()).toEqual(states[1]);
    expect(p.detector.eventsSeen).toBe(448);
    await run(cp, p, new EventStream(5), 1);
    expect(await cp.finalCheckpoint()).toBe(join(dir, 'checkpoint-00000003.json'));
    const older = await openCheckpoints({
      config: config(dir, { file: join(dir, 'checkpoint-00000001.json') }),
      logger: silentLogger(),
    });
    const q = parts(c);
    await older.attach(q);
    expect(q.global.getState()).toEqual(states[0]);
  });

  it('a truncated newest checkpoint is a CheckpointError naming the file, the problem and both ways out', async () => {
    const { dir, c } = await twoCheckpoints();
    const newest = join(dir, 'checkpoint-00000002.json');
    await truncate(newest, 1000);
    const err = await openCheckpoints({ config: c, logger: silentLogger() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    const message = (err as Error).message;
    expect(message).toContain(
      `checkpoint ${newest} cannot be loaded: it is not valid JSON (truncated or corrupt)`,
    );
    expect(message).toContain('run with --reset-model to start fresh');
    expect(message).toContain(
      `with --checkpoint ${join(dir, 'checkpoint-00000001.json')} to use the last good checkpoint`,
    );
  });

  it('names a wrong version, a foreign file and changed settings', async () => {
    const { dir, c } = await twoCheckpoints();
    const newest = join(dir, 'checkpoint-00000002.json');
    const doc = await readDoc(newest);
    await writeFile(newest, JSON.stringify({ ...doc, version: 2 }));
    await expect(openCheckpoints({ config: c, logger: silentLogger() })).rejects.toThrow(
      /checkpoint format version 2, this build reads version 1\. To continue, run with --reset-model .* --checkpoint .*checkpoint-00000001\.json/,
    );
    await writeFile(newest, JSON.stringify({ hello: 'world' }));
    await expect(openCheckpoints({ config: c, logger: silentLogger() })).rejects.toThrow(
      /not a flowsentinel checkpoint/,
    );
    await writeFile(newest, JSON.stringify(doc));
    const changed = config(dir, {}, { model: { layers: 3 }, features: { fields: ['a', 'b', 'x'] } });
    const err = (await openCheckpoints({ config: changed, logger: silentLogger() }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toContain('features ["a","b","c"] in the checkpoint, ["a","b","x"] configured');
    expect(err.message).toContain('model.layers 2 in the checkpoint, 3 configured');
    expect(err.message).toMatch(
      /--reset-model to start fresh, or restore the settings it was written with\.$/,
    );
    const missing = config(dir, { file: join(dir, 'nope.json') });
    await expect(openCheckpoints({ config: missing, logger: silentLogger() })).rejects.toThrow(
      /the file does not exist/,
    );
  });

  it('state that passes the envelope but does not fit the detector fails on attach', async () => {
    const { c } = await twoCheckpoints();
    const other = { ...c, threshold: { policy: 'pvalue', alpha: 0.01, window: 2000 } } as AppConfig;
    const cp = await openCheckpoints({ config: other, logger: silentLogger() });
    await expect(cp.attach(parts(other))).rejects.toThrow(
      /cannot be loaded: its state does not fit: threshold state is for policy "quantile" .* --reset-model/,
    );
  });

  it('reset ignores existing checkpoints, deletes saved key models and numbers on past them', async () => {
    const { dir, c } = await twoCheckpoints();
    await mkdir(join(dir, 'keys'), { recursive: true });
    await writeFile(join(dir, 'keys', 'k-0000.json'), '{}');
    await writeFile(join(dir, '.checkpoint-00000009.json.123.1.tmp'), 'partial');
    const reset = config(dir, { reset: true, keep: 5 });
    const cp = await openCheckpoints({ config: reset, logger: silentLogger() });
    expect(cp.loaded).toBeUndefined();
    const p = parts(reset);
    await cp.attach(p);
    expect(p.detector.eventsSeen).toBe(0);
    await run(cp, p, new EventStream(6), 1);
    expect(await cp.finalCheckpoint()).toBe(join(dir, 'checkpoint-00000003.json'));
    // keys/ and the stray temporary file are gone.
    expect(await files(dir)).toEqual([
      'checkpoint-00000001.json',
      'checkpoint-00000002.json',
      'checkpoint-00000003.json',
    ]);
    expect(c.checkpoint.reset).toBe(false);
  });
});
