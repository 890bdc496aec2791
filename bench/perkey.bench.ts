/**
 * Per-key models at scale (issue 13 item 6): 100 000 distinct keys drawn with Zipf(1.1) frequencies
 * (seeded), the default model, detector alone, batches of 256. Compares per-key on (cold keys on the
 * global model until `perKey.minEvents`) with a single model, run in lock step batch by batch (the
 * machine is shared, so only the ratio of the same run means anything: the table's "vs single" is the
 * median over repeats of that per-run ratio), and reports the saved models' disk use
 * against the configured bound `perKey.maxSaved` × the size of one saved model (a third row with fewer
 * live models than hot keys makes evictions happen, to fill the disk up to the bound). Prints a table;
 * asserts nothing.
 *
 *   npx tsx bench/perkey.bench.ts [--events=50000] [--keys=100000] [--repeats=2] [--max-keys=100]
 *     [--max-saved=1000] [--min-events=200] [--train-every=64] [--backend=auto|wasm|cpu]
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppConfig, loadConfig } from '../src/config/index.js';
import type { FeatureEvent } from '../src/core/records.js';
import { createRng, normalArray } from '../src/core/rng.js';
import { createDetector } from '../src/detector/factory.js';
import { initBackend } from '../src/flow/backend.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { formatRate, markdownTable, median } from './lib/stats.js';

const FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'];
const BATCH = 256;
const ZIPF_S = 1.1;

/** Cumulative Zipf(s) probabilities of ranks 1..n. */
function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 1; k <= n; k++) {
    sum += k ** -s;
    cdf[k - 1] = sum;
  }
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  return cdf;
}

/** `events` events in batches of `BATCH`, keys `key-<rank>` with Zipf(1.1) ranks over `keys` keys. */
function zipfBatches(
  events: number,
  keys: number,
  seed: number,
): { batches: FeatureEvent[][]; distinct: number } {
  const rng = createRng(seed);
  const cdf = zipfCdf(keys, ZIPF_S);
  const seen = new Set<number>();
  const batches: FeatureEvent[][] = [];
  for (let start = 0; start < events; start += BATCH) {
    const batch: FeatureEvent[] = [];
    for (let i = start; i < Math.min(events, start + BATCH); i++) {
      const u = rng.uniform();
      let lo = 0;
      let hi = keys - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! < u) lo = mid + 1;
        else hi = mid;
      }
      seen.add(lo);
      batch.push({
        ref: { topic: 'bench', partition: 0, offset: String(i) },
        timestamp: 1_700_000_000_000 + i * 1000,
        key: `key-${lo + 1}`,
        features: normalArray(rng, FIELDS.length),
      });
    }
    batches.push(batch);
  }
  return { batches, distinct: seen.size };
}

interface PerKey {
  readonly trainEvery?: number;
  readonly maxKeys: number;
  readonly maxSaved: number;
  readonly minEvents: number;
}

function config(backend: string, dir: string, perKey: PerKey | undefined): AppConfig {
  return loadConfig({
    env: {},
    overrides: {
      backend: backend as AppConfig['backend'],
      features: { fields: FIELDS },
      metrics: { enabled: false },
      checkpoint: { dir },
      perKey: perKey ? { enabled: true, ...perKey } : { enabled: false },
    },
  });
}

interface Run {
  readonly rate: number;
  readonly files: number;
  readonly bytes: number;
  readonly live: number;
}

async function keysDisk(dir: string): Promise<{ files: number; bytes: number }> {
  const names = await readdir(join(dir, 'keys')).catch(() => [] as string[]);
  let bytes = 0;
  for (const n of names) bytes += (await stat(join(dir, 'keys', n))).size;
  return { files: names.length, bytes };
}

/**
 * Runs every variant over the same batches in lock step (batch i on each detector in turn), timing each
 * detector's own `process` calls: load swings of the shared machine then hit all variants alike.
 */
async function runLockstep(
  backend: string,
  batches: readonly FeatureEvent[][],
  variants: readonly (PerKey | undefined)[],
): Promise<Run[]> {
  const dirs = await Promise.all(variants.map(() => mkdtemp(join(tmpdir(), 'flowsentinel-perkey-bench-'))));
  const parts = variants.map((pk, v) => createDetector(config(backend, dirs[v]!, pk)));
  const ms = variants.map(() => 0);
  try {
    for (const b of batches) {
      for (const [v, p] of parts.entries()) {
        const t0 = performance.now();
        await p.detector.process(b);
        ms[v]! += performance.now() - t0;
      }
    }
    const n = batches.reduce((a, b) => a + b.length, 0);
    return await Promise.all(
      parts.map(async (p, v) => ({
        rate: n / (ms[v]! / 1000),
        live: p.keyed?.liveKeys().length ?? 0,
        ...(await keysDisk(dirs[v]!)),
      })),
    );
  } finally {
    for (const p of parts) p.dispose();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

async function runOnce(backend: string, batches: readonly FeatureEvent[][], perKey?: PerKey): Promise<Run> {
  return (await runLockstep(backend, batches, [perKey]))[0]!;
}

/** Bytes of one saved model of the default model with a full per-key reservoir (for the disk bound). */
async function savedModelBytes(backend: string, batches: readonly FeatureEvent[][]): Promise<number> {
  const one = batches.slice(0, 8).map((b) => b.map((e) => ({ ...e, key: `k${Number(e.ref.offset) % 2}` })));
  const r = await runOnce(backend, one, { maxKeys: 1, maxSaved: 10, minEvents: 0 });
  return r.files > 0 ? r.bytes / r.files : Number.NaN;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), [
    'events',
    'keys',
    'repeats',
    'max-keys',
    'max-saved',
    'min-events',
    'train-every',
    'backend',
  ]);
  const backend = (await initBackend((args.backend ?? 'auto') as AppConfig['backend'])).name;
  const events = numberArg(args, 'events', args.quick ? 10_000 : 50_000);
  const keys = numberArg(args, 'keys', 100_000);
  const repeats = numberArg(args, 'repeats', 2);
  const perKey: PerKey = {
    maxKeys: numberArg(args, 'max-keys', 100),
    maxSaved: numberArg(args, 'max-saved', 1000),
    minEvents: args.values.has('min-events') ? Number(args.values.get('min-events')) : 200,
    ...(args.values.has('train-every') ? { trainEvery: numberArg(args, 'train-every', 64) } : {}),
  };
  const tight: PerKey = { ...perKey, maxKeys: 8, maxSaved: 10 };
  const { batches, distinct } = zipfBatches(events, keys, 11);
  process.stderr.write(`${events} events, ${distinct} distinct of ${keys} keys, backend ${backend}\n`);
  const modelBytes = await savedModelBytes(backend, batches);
  await runOnce(backend, batches.slice(0, 20)); // untimed warm-up
  const runs = { single: [] as Run[], perKey: [] as Run[], tight: [] as Run[] };
  for (let r = 0; r < repeats; r++) {
    const last = r === repeats - 1; // the evicting variant is slow by design: once is enough
    const [one, pk, tt] = await runLockstep(
      backend,
      batches,
      last ? [undefined, perKey, tight] : [undefined, perKey],
    );
    runs.single.push(one!);
    runs.perKey.push(pk!);
    if (tt) runs.tight.push(tt);
    process.stderr.write(
      `  #${r + 1}: single ${formatRate(one!.rate)}, per-key ${formatRate(pk!.rate)} events/s ` +
        `(${((100 * pk!.rate) / one!.rate).toFixed(0)}% of single in this run)` +
        (tt ? `, evicting ${formatRate(tt.rate)} events/s, ${tt.files} saved files` : '') +
        '\n',
    );
  }
  const row = (label: string, rs: readonly Run[], pk: PerKey | undefined): string[] => {
    const rate = median(rs.map((x) => x.rate));
    // Each variant against the single model of the same lock-step run (the evicting one ran in the last).
    const offset = runs.single.length - rs.length;
    const ratio = median(rs.map((x, i) => x.rate / runs.single[offset + i]!.rate));
    const last = rs.at(-1)!;
    const bound = pk ? pk.maxSaved * modelBytes : 0;
    return [
      label,
      formatRate(rate),
      `${(100 * ratio).toFixed(0)}%`,
      pk ? String(last.live) : '-',
      pk ? `${last.files} / ${pk.maxSaved}` : '-',
      pk ? `${(last.bytes / 1e6).toFixed(2)} MB / ${(bound / 1e6).toFixed(1)} MB` : '-',
    ];
  };
  const load = loadavg().map((x) => x.toFixed(1));
  process.stdout.write(
    `\nLoad average at the end (1/5/15 min): ${load.join(' ')} on ${cpus().length} CPUs; ` +
      `"vs single" is the median over repeats of per-key / single-model events/s within one lock-step run\n`,
  );
  process.stdout.write(
    `\nPer-key models: ${events} events, Zipf(${ZIPF_S}) over ${keys} keys (${distinct} seen), minEvents ${perKey.minEvents}, ` +
      `batches of ${BATCH}, default model, ${backend}; one saved model = ${(modelBytes / 1024).toFixed(1)} KiB\n\n`,
  );
  process.stdout.write(
    `${markdownTable(
      ['run', 'events/s', 'vs single', 'live models', 'saved files / maxSaved', 'disk / bound'],
      [
        row('single model', runs.single, undefined),
        row(`per-key, maxKeys ${perKey.maxKeys}, maxSaved ${perKey.maxSaved}`, runs.perKey, perKey),
        row(
          `per-key, maxKeys ${tight.maxKeys} (< hot keys: evicts), maxSaved ${tight.maxSaved}`,
          runs.tight,
          tight,
        ),
      ],
    )}\n`,
  );
}

await main();
