/**
 * The plumbing changes of issue 14 item 5, each timed on its own part in one process, before and after
 * interleaved, process CPU time, median of `--repeats` (the whole-job ablation,
 * bench/plumbing-ablation.bench.ts, is too noisy on a loaded machine for changes of a few percent).
 * "Before" is the code of `--before=<commit>` (default 44481f5, the commit before the changes), imported
 * from a temporary git worktree into the same process. Prints a table; asserts nothing.
 *
 *   npx tsx bench/plumbing-parts.bench.ts [--before=44481f5] [--events=40000] [--repeats=7]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRng } from '../src/core/rng.js';
import { WindowedSketch } from '../src/detector/thresholds/windowed-sketch.js';
import { decodeRecord } from '../src/streams/decode.js';
import { createFeatureSpec } from '../src/streams/feature-spec.js';
import { generateRecords } from '../src/streams/generator-source.js';
import { encodeRecordLine, parseRecordLine } from '../src/streams/jsonl.js';
import { markdownTable, median } from './lib/stats.js';
import { clockMs } from './lib/timing.js';

const REPO = resolve(import.meta.dirname, '..');
const FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.slice(name.length + 3);
}

function cpuPerItem(fn: () => void, items: number): number {
  const t0 = clockMs('cpu');
  fn();
  return ((clockMs('cpu') - t0) * 1000) / items;
}

/** The parts of the old code this bench times. */
interface Before {
  readonly parseRecordLine: typeof parseRecordLine;
  readonly decodeRecord: typeof decodeRecord;
  readonly WindowedSketch: typeof WindowedSketch;
}

async function importBefore(root: string): Promise<Before> {
  const load = (path: string) => import(pathToFileURL(join(root, path)).href);
  const [jsonl, decode, sketch] = await Promise.all([
    load('src/streams/jsonl.ts'),
    load('src/streams/decode.ts'),
    load('src/detector/thresholds/windowed-sketch.ts'),
  ]);
  return {
    parseRecordLine: jsonl.parseRecordLine,
    decodeRecord: decode.decodeRecord,
    WindowedSketch: sketch.WindowedSketch,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'plumbing-parts-'));
  const root = join(dir, 'before');
  execFileSync('git', ['-C', REPO, 'worktree', 'add', '--detach', root, arg('before', '44481f5')], {
    stdio: 'ignore',
  });
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  try {
    await measure(await importBefore(root));
  } finally {
    execFileSync('git', ['-C', REPO, 'worktree', 'remove', '--force', root]);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(old: Before): Promise<void> {
  const events = Number(arg('events', '40000'));
  const repeats = Number(arg('repeats', '7'));
  const spec = createFeatureSpec({ fields: FIELDS });
  const gen = { seed: 7, count: events, fields: FIELDS, anomalyRate: 0.01, drift: null };
  const lines = Array.from(generateRecords(gen), (r) => encodeRecordLine(r));
  const rng = createRng(5);
  const sketch = new WindowedSketch({ window: 10_000 });
  const oldSketch = new old.WindowedSketch({ window: 10_000 });
  for (let i = 0; i < 9_000; i++) {
    const v = -10 + 2 * rng.normal();
    sketch.add(v);
    oldSketch.add(v);
  }
  const batch = Array.from({ length: 256 }, () => -10 + 2 * rng.normal());
  const parts: [string, string, number, () => void, () => void][] = [
    [
      'replay line → FeatureEvent',
      'µs/record',
      events,
      () => {
        for (const l of lines) old.decodeRecord(old.parseRecordLine(l), spec);
      },
      () => {
        for (const l of lines) decodeRecord(parseRecordLine(l), spec);
      },
    ],
    [
      'threshold p-values of a 256-event batch (10k sketch)',
      'µs/event',
      256 * 50,
      () => {
        for (let k = 0; k < 50; k++) oldSketch.midRanks(batch);
      },
      () => {
        for (let k = 0; k < 50; k++) sketch.midRanks(batch);
      },
    ],
  ];
  const load0 = loadavg().map((l) => l.toFixed(1));
  const rows = parts.map(([name, unit, items, before, after]) => {
    const b: number[] = [];
    const a: number[] = [];
    for (let r = 0; r < repeats; r++) {
      b.push(cpuPerItem(before, items));
      a.push(cpuPerItem(after, items));
    }
    const [mb, ma] = [median(b), median(a)];
    return [name, unit, mb.toFixed(3), ma.toFixed(3), `${(mb / ma).toFixed(2)}×`];
  });
  const load1 = loadavg().map((l) => l.toFixed(1));
  console.log(`process CPU time, median of ${repeats}, ${events} records/events, d = 8`);
  console.log(
    `load average (1 / 5 / 15 min): ${load0.join(' / ')} at the start, ${load1.join(' / ')} at the end\n`,
  );
  console.log(markdownTable(['part', 'unit', 'before', 'after', 'speed-up'], rows));
}

await main();
