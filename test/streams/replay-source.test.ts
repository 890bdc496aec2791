import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { lastValueFrom, type Observable, tap, toArray, VirtualTimeScheduler } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { CreditGate } from '../../src/streams/backpressure.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import { encodeRecordLine, RecordLineError } from '../../src/streams/jsonl.js';
import { replaySource } from '../../src/streams/replay-source.js';
import { SourceError } from '../../src/streams/source.js';
import type { SourceRecord } from '../../src/streams/types.js';
import { StallWatchingGate } from '../helpers/stall-gate.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowsentinel-replay-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fixture(name: string, lines: readonly string[], eol = '\n'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, lines.join(eol) + eol);
  return path;
}

/** Subscribes with a gate whose credits come back right after each record (an infinitely fast consumer). */
function drain(open: (gate: CreditGate) => Observable<SourceRecord>): Promise<SourceRecord[]> {
  const gate = new CreditGate(8);
  return lastValueFrom(
    open(gate).pipe(
      tap(() => queueMicrotask(() => gate.release())),
      toArray(),
    ),
  );
}

const generated = [
  ...generateRecords({ seed: 21, count: 300, partitions: 2, malformedRate: 0.05, oversizeBytes: 400 }),
];

describe('replaySource', () => {
  it('replays a recorded file record for record, byte for byte', async () => {
    const path = await fixture('all.jsonl', generated.map(encodeRecordLine));
    const replayed = await drain((gate) => replaySource({ path }).records(gate));
    expect(replayed.map(encodeRecordLine)).toEqual(generated.map(encodeRecordLine));
  });

  it('tolerates CRLF line ends, blank lines and a leading BOM', async () => {
    const lines = generated.slice(0, 3).map(encodeRecordLine);
    const path = await fixture('crlf.jsonl', [`\uFEFF${lines[0]}`, '', lines[1]!, '   ', lines[2]!], '\r\n');
    const replayed = await drain((gate) => replaySource({ path }).records(gate));
    expect(replayed.map(encodeRecordLine)).toEqual(lines);
  });

  it('reads only as far as credits allow', async () => {
    const many = [...generateRecords({ seed: 22, count: 5000 })].map(encodeRecordLine);
    const path = await fixture('many.jsonl', many);
    const gate = new StallWatchingGate(5);
    const seen: SourceRecord[] = [];
    let completed = false;
    let limit = 5;
    let overrun: () => void = () => undefined;
    const overran = new Promise<void>((resolve) => {
      overrun = resolve;
    });
    const sub = replaySource({ path })
      .records(gate)
      .subscribe({
        next: (r) => {
          if (seen.push(r) > limit) overrun();
        },
        complete: () => (completed = true),
      });
    // Stalled = waiting for a 6th credit: it cannot read further until one comes back. (A source that
    // ignored the credits would never wait; `overran` ends the wait then, and the test fails.)
    await Promise.race([gate.stalled(1), overran]);
    expect(seen).toHaveLength(5);
    limit = 8;
    gate.release(3);
    await Promise.race([gate.stalled(2), overran]);
    expect(seen).toHaveLength(8);
    expect(seen.map(encodeRecordLine)).toEqual(many.slice(0, 8));
    expect(completed).toBe(false);
    sub.unsubscribe();
  });

  it('fails on a malformed line with its line number, or skips it when asked', async () => {
    const lines = generated.slice(0, 4).map(encodeRecordLine);
    const path = await fixture('bad.jsonl', [
      lines[0]!,
      lines[1]!,
      '{"topic": 1}',
      lines[2]!,
      'not json',
      lines[3]!,
    ]);
    const failure = drain((gate) => replaySource({ path }).records(gate));
    await expect(failure).rejects.toBeInstanceOf(RecordLineError);
    await expect(failure).rejects.toMatchObject({ lineNumber: 3 });

    const skipped: number[] = [];
    const replayed = await drain((gate) =>
      replaySource({
        path,
        malformedLines: 'skip',
        onMalformedLine: (err) => skipped.push(err.lineNumber ?? -1),
      }).records(gate),
    );
    expect(skipped).toEqual([3, 5]);
    expect(replayed.map(encodeRecordLine)).toEqual(lines);
  });

  it('reports a line that is not valid UTF-8 instead of replacing its bytes (issue 13)', async () => {
    const lines = generated.slice(0, 3).map(encodeRecordLine);
    const path = join(dir, 'latin1.jsonl');
    // Line 2 holds a Latin-1 "é" (0xE9) in its topic, which a decoding stream would turn into U+FFFD.
    const at = lines[1]!.indexOf('"topic":"') + '"topic":"'.length;
    const badLine = Buffer.concat([
      Buffer.from(lines[1]!.slice(0, at)),
      Buffer.from([0xe9]),
      Buffer.from(lines[1]!.slice(at)),
    ]);
    await writeFile(
      path,
      Buffer.concat([Buffer.from(`${lines[0]}\n`), badLine, Buffer.from(`\n${lines[2]}\n`)]),
    );
    const failure = drain((gate) => replaySource({ path }).records(gate));
    await expect(failure).rejects.toBeInstanceOf(RecordLineError);
    await expect(failure).rejects.toThrow(/^line 2: not valid UTF-8/);
    const skipped: string[] = [];
    const replayed = await drain((gate) =>
      replaySource({ path, malformedLines: 'skip', onMalformedLine: (e) => skipped.push(e.message) }).records(
        gate,
      ),
    );
    expect(skipped).toEqual([expect.stringMatching(/^line 2: not valid UTF-8/)]);
    expect(replayed.map(encodeRecordLine)).toEqual([lines[0], lines[2]]);
  });

  it('says that a cut-off last line looks truncated; a complete last line without newline is fine', async () => {
    const lines = generated.slice(0, 3).map(encodeRecordLine);
    const cut = join(dir, 'cut.jsonl');
    await writeFile(cut, `${lines[0]}\n${lines[1]}\n${lines[2]!.slice(0, 40)}`);
    const failure = drain((gate) => replaySource({ path: cut }).records(gate));
    await expect(failure).rejects.toThrow(/^line 3: not valid JSON .*the file looks truncated$/);
    const whole = join(dir, 'whole.jsonl');
    await writeFile(whole, `${lines[0]}\n${lines[1]}\n${lines[2]}`);
    const replayed = await drain((gate) => replaySource({ path: whole }).records(gate));
    expect(replayed.map(encodeRecordLine)).toEqual(lines);
  });

  it('reports a missing file as a SourceError', async () => {
    const missing = drain((gate) => replaySource({ path: join(dir, 'nope.jsonl') }).records(gate));
    await expect(missing).rejects.toBeInstanceOf(SourceError);
    await expect(missing).rejects.toThrow(/nope\.jsonl/);
  });

  it('reports an unreadable path (a directory) as a SourceError', async () => {
    await expect(drain((gate) => replaySource({ path: dir }).records(gate))).rejects.toBeInstanceOf(
      SourceError,
    );
  });

  it('validates options', () => {
    expect(() => replaySource({ path: '' })).toThrow(InvalidOptionError);
    expect(() => replaySource({ path: 'x', speed: 0 })).toThrow(/speed/);
    expect(() => replaySource({ path: 'x', speed: Number.POSITIVE_INFINITY })).toThrow(/speed/);
    expect(() => replaySource({ path: 'x', malformedLines: 'ignore' as 'skip' })).toThrow(/malformedLines/);
  });

  it.each([
    ['recorded', [0, 100, 100, 350, 350, 1350]],
    [2, [0, 50, 50, 175, 175, 675]],
  ] as const)(
    'paces speed=%s by the recorded timestamps on the injected scheduler',
    async (speed, expected) => {
      const base = generated[0]!;
      const offsets = [0, 100, 100, 350, 50, 1350]; // the 5th is out of order: no wait
      const lines = offsets.map((dt, i) =>
        encodeRecordLine({ ...base, offset: String(i), timestamp: 1_000_000 + dt }),
      );
      const path = await fixture(`paced-${speed}.jsonl`, lines);
      const scheduler = new VirtualTimeScheduler();
      const gate = new CreditGate(100);
      const emittedAt: number[] = [];
      let done = false;
      replaySource({ path, speed, scheduler })
        .records(gate)
        .subscribe({ next: () => emittedAt.push(scheduler.now()), complete: () => (done = true) });
      for (let i = 0; i < 10_000 && !done; i++) {
        await tick();
        scheduler.flush();
      }
      expect(done).toBe(true);
      expect(emittedAt).toEqual(expected);
    },
  );
});
