/**
 * Does the whole job with learning gain from a different training-step shape? The default config learns
 * one 256-row step (128 new rows + 128 replayed) per 256-event micro-batch; the variants learn the same
 * number of rows per event in fewer, larger steps: larger micro-batches with proportionally larger steps,
 * or 256-event micro-batches with a 512-row step on every other batch (`training.maxLearnFraction` 0.5,
 * which learns all new rows of the admitted batches). Whole job over a generated replay file (d = 8, the
 * default 6×64 RealNVP, fused engine, explanations on), variants interleaved per repeat in one process
 * pinned to one core, events per CPU-second, median of `--repeats`. Prints a table; asserts nothing.
 * Learning on larger steps changes what is learned (quality is not measured here).
 *
 *   npx tsx bench/step-shape.bench.ts [--events=20000] [--repeats=5] [--backend=wasm]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppConfig, loadConfig } from '../src/config/index.js';
import { initBackend } from '../src/flow/backend.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { writeGeneratedFixture } from './lib/fixture.js';
import { runJobOnce } from './lib/job-run.js';
import { reexecOnOneCore } from './lib/pin.js';
import { markdownTable, median } from './lib/stats.js';

const FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];

interface Variant {
  readonly name: string;
  readonly maxSize: number;
  readonly batchSize: number;
  readonly maxLearnFraction: number;
}

const VARIANTS: readonly Variant[] = [
  {
    name: 'default: micro-batch 256, 256-row step every batch',
    maxSize: 256,
    batchSize: 256,
    maxLearnFraction: 1,
  },
  {
    name: 'micro-batch 256, 512-row step every other batch',
    maxSize: 256,
    batchSize: 512,
    maxLearnFraction: 0.5,
  },
  { name: 'micro-batch 512, 512-row step every batch', maxSize: 512, batchSize: 512, maxLearnFraction: 1 },
  {
    name: 'micro-batch 1024, 1024-row step every batch',
    maxSize: 1024,
    batchSize: 1024,
    maxLearnFraction: 1,
  },
];

function config(backend: string, v: Variant): AppConfig {
  return loadConfig({
    env: {},
    overrides: {
      backend: backend as AppConfig['backend'],
      features: { fields: FIELDS },
      training: { batchSize: v.batchSize, maxLearnFraction: v.maxLearnFraction },
      batching: { maxSize: v.maxSize, highWaterMark: Math.max(10_000, 2 * v.maxSize) },
      metrics: { enabled: false },
    },
  });
}

async function main(): Promise<void> {
  if (reexecOnOneCore(0)) return;
  const args = parseBenchArgs(process.argv.slice(2), ['events', 'repeats', 'backend']);
  const events = Math.round(numberArg(args, 'events', 20_000));
  const repeats = Math.round(numberArg(args, 'repeats', 5));
  const backend = (await initBackend((args.backend ?? 'wasm') as AppConfig['backend'])).name;
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ');
  const dir = await mkdtemp(join(tmpdir(), 'flowsentinel-step-shape-'));
  try {
    const file = join(dir, 'events.jsonl');
    await writeGeneratedFixture(file, { seed: 2024, count: events, fields: FIELDS, anomalyRate: 0.01 });
    process.stdout.write(`# Step shape, whole job with learning (${backend}, ${events} events)\n\n`);
    process.stdout.write(`load average ${load()} at the start\n\n`);
    await runJobOnce(config(backend, VARIANTS[0]!), file, dir); // untimed warm-up
    const rates: number[][] = VARIANTS.map(() => []);
    for (let r = 0; r < repeats; r++) {
      for (const [k, v] of VARIANTS.entries()) {
        const rate = (await runJobOnce(config(backend, v), file, dir)).eventsPerCpuSecond;
        rates[k]!.push(rate);
        process.stderr.write(`  ${v.name} #${r + 1}: ${rate.toFixed(0)} per CPU-s\n`);
      }
    }
    const base = median(rates[0]!);
    const table = markdownTable(
      ['step shape (whole job, score + learn)', 'events /CPU-s', 'vs default'],
      VARIANTS.map((v, k) => [
        v.name,
        median(rates[k]!).toFixed(0),
        `${(median(rates[k]!) / base).toFixed(2)}×`,
      ]),
    );
    process.stdout.write(`${table}\n\nmedian of ${repeats}; load average ${load()} at the end\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
