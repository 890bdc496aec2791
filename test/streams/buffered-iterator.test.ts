import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BufferedAsyncIterator,
  filterUntilError,
  isBuffered,
} from '../../src/streams/buffered-iterator.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import { encodeRecordLine, RecordLineError } from '../../src/streams/jsonl.js';
import { readRecordFile } from '../../src/streams/replay-source.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowsentinel-buffered-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every result of `it`, taking buffered ones with `tryNext`; `sync` counts those. */
async function drainBuffered<T>(it: BufferedAsyncIterator<T>): Promise<{ items: T[]; sync: number }> {
  const items: T[] = [];
  let sync = 0;
  for (;;) {
    const now = it.tryNext();
    if (now !== undefined) sync++;
    const step = now ?? (await it.next());
    if (step.done === true) return { items, sync };
    items.push(step.value);
  }
}

async function* numbers(n: number, failAt?: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    if (i === failAt) throw new Error(`boom at ${i}`);
    yield i;
  }
}

describe('filterUntilError', () => {
  it('keeps what `keep` accepts and ends at the first error, passing it on', async () => {
    const errors: unknown[] = [];
    const it = filterUntilError(
      numbers(10, 7),
      (n) => n % 2 === 0,
      (e) => errors.push(e),
    );
    expect(isBuffered(it)).toBe(true);
    const { items } = await drainBuffered(it);
    expect(items).toEqual([0, 2, 4, 6]);
    expect(errors).toEqual([new Error('boom at 7')]);
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('rethrows when there is no error handler, and counts an error of `keep` as the source failing', async () => {
    await expect(drainBuffered(filterUntilError(numbers(5, 3), undefined))).rejects.toThrow('boom at 3');
    const errors: unknown[] = [];
    const it = filterUntilError(
      numbers(5),
      (n) => {
        if (n === 2) throw new Error('bad keep');
        return true;
      },
      (e) => errors.push(e),
    );
    expect((await drainBuffered(it)).items).toEqual([0, 1]);
    expect(errors).toEqual([new Error('bad keep')]);
  });

  it('stays synchronous over a buffered source and forwards return()', async () => {
    const lines = [...generateRecords({ seed: 3, count: 200 })].map(encodeRecordLine);
    const path = join(dir, 'sync.jsonl');
    await writeFile(path, `${lines.join('\n')}\n`);
    const { items, sync } = await drainBuffered(filterUntilError(readRecordFile({ path }), undefined));
    expect(items.map(encodeRecordLine)).toEqual(lines);
    expect(sync).toBeGreaterThan(100);

    const it = filterUntilError(readRecordFile({ path }), undefined);
    await it.next();
    expect(await it.return?.()).toEqual({ done: true, value: undefined });
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });
});

describe('readRecordFile, buffered', () => {
  it('gives the same records and the same error position with tryNext as with next alone', async () => {
    const lines = [...generateRecords({ seed: 4, count: 50 })].map(encodeRecordLine);
    const path = join(dir, 'bad.jsonl');
    await writeFile(path, `${[...lines.slice(0, 30), 'not json', ...lines.slice(30)].join('\n')}\n`);
    const viaNext: string[] = [];
    const plain = readRecordFile({ path });
    await expect(
      (async () => {
        for await (const r of plain) viaNext.push(encodeRecordLine(r));
      })(),
    ).rejects.toBeInstanceOf(RecordLineError);
    const buffered = readRecordFile({ path });
    const seen: string[] = [];
    const failure = (async () => {
      for (;;) {
        const step = buffered.tryNext() ?? (await buffered.next());
        if (step.done === true) return;
        seen.push(encodeRecordLine(step.value));
      }
    })();
    await expect(failure).rejects.toThrow(/^line 31: not valid JSON/);
    expect(seen).toEqual(lines.slice(0, 30));
    expect(viaNext).toEqual(seen);
    expect(buffered.tryNext()).toEqual({ done: true, value: undefined });
  });

  it('hands out nothing synchronously before the file is open, and checks options at the first pull', async () => {
    const it = readRecordFile({ path: join(dir, 'bad.jsonl') });
    expect(it.tryNext()).toBeUndefined();
    await expect(readRecordFile({ path: '' }).next()).rejects.toThrow(/path must name/);
    await it.return?.();
  });

  it('stops at an aborted signal', async () => {
    const lines = [...generateRecords({ seed: 5, count: 20 })].map(encodeRecordLine);
    const path = join(dir, 'abort.jsonl');
    await writeFile(path, `${lines.join('\n')}\n`);
    const controller = new AbortController();
    const it = readRecordFile({ path }, controller.signal);
    expect((await it.next()).done).toBe(false);
    expect(it.tryNext()?.done).toBe(false);
    controller.abort();
    expect(it.tryNext()).toEqual({ done: true, value: undefined });
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });
});
