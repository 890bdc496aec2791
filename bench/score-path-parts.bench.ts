/**
 * The score-only job's parts that the second plumbing round changed, each timed on its own in one
 * process, before and after interleaved, process CPU time, median of `--repeats`: reading a replay file
 * into records, one line → record, record → `FeatureEvent`, the ack tracker, and one fused scoring call
 * of 256 rows (RealNVP 6×64, d = 8, wasm). "Before" is the code of `--before=<commit>` (default 6a6f471),
 * imported from a temporary git worktree into the same process (same tfjs instance and backend). Prints a
 * table; asserts nothing.
 *
 *   npx tsx bench/score-path-parts.bench.ts [--before=6a6f471] [--events=40000] [--repeats=7]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRng } from '../src/core/rng.js';
import { initBackend } from '../src/flow/backend.js';
import { realNVP } from '../src/flow/builders.js';
import { planFor } from '../src/flow/fused/plan.js';
import type { NormalizingFlow } from '../src/flow/normalizing-flow.js';
import { generateRecords } from '../src/streams/generator-source.js';
import { encodeRecordLine } from '../src/streams/jsonl.js';
import type { SourceRecord } from '../src/streams/types.js';
import { markdownTable, median } from './lib/stats.js';
import { clockMs } from './lib/timing.js';

const REPO = resolve(import.meta.dirname, '..');
const FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.slice(name.length + 3);
}

/** The parts one checkout is timed on. */
interface Parts {
  readonly readFile: (path: string) => Promise<number>;
  readonly parse: (lines: readonly string[]) => number;
  readonly decode: (records: readonly SourceRecord[]) => number;
  readonly acks: (records: readonly SourceRecord[]) => number;
  readonly score: (x: Float32Array, n: number) => Float32Array;
}

async function partsOf(root: string, flow: NormalizingFlow): Promise<Parts> {
  const load = (path: string) => import(pathToFileURL(join(root, path)).href);
  const [replay, jsonl, decode, spec, acks, fused] = await Promise.all([
    load('src/streams/replay-source.ts'),
    load('src/streams/jsonl.ts'),
    load('src/streams/decode.ts'),
    load('src/streams/feature-spec.ts'),
    load('src/streams/acks.ts'),
    load('src/flow/fused/fused-model.ts'),
  ]);
  const featureSpec = spec.createFeatureSpec({ fields: FIELDS });
  const model = new fused.FusedModel(planFor(flow)!, flow);
  return {
    readFile: async (path) => {
      let n = 0;
      for await (const _ of replay.readRecordFile({ path })) n++;
      return n;
    },
    parse: (lines) => {
      for (const [i, line] of lines.entries()) jsonl.parseRecordLine(line, i + 1);
      return lines.length;
    },
    decode: (records) => {
      for (const r of records) decode.decodeRecord(r, featureSpec);
      return records.length;
    },
    acks: (records) => {
      const tracker = new acks.AckTracker();
      for (let i = 0; i < records.length; i += 256) {
        const batch = records.slice(i, i + 256);
        for (const r of batch) tracker.register(r);
        for (const r of batch) tracker.ack(r);
      }
      return records.length;
    },
    score: (x, n) => model.scoreSync(x, n),
  };
}

async function cpuPerItem(fn: () => number | Promise<number>): Promise<number> {
  const t0 = clockMs('cpu');
  const items = await fn();
  return ((clockMs('cpu') - t0) * 1000) / items;
}

function sameScores(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

type Row = readonly [name: string, part: string, fn: (p: Parts) => number | Promise<number>];

async function main(): Promise<void> {
  const before = arg('before', '6a6f471');
  const events = Number(arg('events', '40000'));
  const repeats = Number(arg('repeats', '7'));
  await initBackend('wasm');
  const dir = mkdtempSync(join(tmpdir(), 'score-path-parts-'));
  const root = join(dir, 'before');
  execFileSync('git', ['-C', REPO, 'worktree', 'add', '--detach', root, before], { stdio: 'ignore' });
  try {
    symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
    const records = [...generateRecords({ seed: 2024, count: events, fields: FIELDS, anomalyRate: 0.01 })];
    const lines = records.map(encodeRecordLine);
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const flow = realNVP({ dim: 8, layers: 6, hidden: 64, seed: 3 });
    const rng = createRng(5);
    const x = Float32Array.from({ length: 256 * 8 }, () => 1.5 * rng.normal());
    const old = await partsOf(root, flow);
    const now = await partsOf(REPO, flow);
    const identical = sameScores(old.score(x, 256), now.score(x, 256));
    const scoreCalls = Math.max(20, Math.round(events / 256));
    const rows: Row[] = [
      ['replay file → records (`readRecordFile`)', 'per record', (p) => p.readFile(file)],
      ['replay line → record (`parseRecordLine`)', 'per record', (p) => p.parse(lines)],
      ['record → `FeatureEvent` (`decodeRecord`)', 'per record', (p) => p.decode(records)],
      ['ack tracker, register + ack in batches of 256', 'per record', (p) => p.acks(records)],
      [
        'fused scoring call, 256 rows, RealNVP 6×64 (`FusedModel.scoreSync`)',
        'per row',
        (p) => {
          for (let i = 0; i < scoreCalls; i++) p.score(x, 256);
          return scoreCalls * 256;
        },
      ],
    ];
    const load0 = loadavg();
    const table: string[][] = [];
    for (const [name, part, fn] of rows) {
      await fn(old);
      await fn(now);
      const a: number[] = [];
      const b: number[] = [];
      for (let r = 0; r < repeats; r++) {
        a.push(await cpuPerItem(() => fn(old)));
        b.push(await cpuPerItem(() => fn(now)));
      }
      const [ma, mb] = [median(a), median(b)];
      table.push([name, part, ma.toFixed(3), mb.toFixed(3), `${(ma / mb).toFixed(2)}×`]);
      process.stderr.write(`  ${name}: ${ma.toFixed(3)} → ${mb.toFixed(3)} µs\n`);
    }
    const load1 = loadavg();
    const fmt = (l: number[]): string => l.map((v) => v.toFixed(1)).join(' / ');
    console.log(
      `Before ${before} (temporary worktree) vs this checkout, one process, process CPU time, median of ${repeats}, ` +
        `${events} generator events; load average (1 / 5 / 15 min) ${fmt(load0)} at the start, ${fmt(load1)} at the end. ` +
        `Fused scores of the two checkouts ${identical ? 'identical bit for bit' : 'DIFFER'}.\n`,
    );
    console.log(markdownTable(['part', 'unit', 'before µs', 'after µs', 'speed-up'], table));
    flow.dispose();
  } finally {
    execFileSync('git', ['-C', REPO, 'worktree', 'remove', '--force', root], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
