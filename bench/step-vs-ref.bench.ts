/**
 * The fused training step of this checkout against the one of an earlier commit, in one process: the
 * earlier `src/` is extracted with `git archive` into `scratch/ref-<commit>/` (git-ignored) and imported
 * next to this one (same tfjs instance and backend). RealNVP 6×64, d = 8, batch 256, `Trainer.step`
 * interleaved, process CPU time, median of `--blocks` blocks of 50 steps; kernels per step (`tf.profile`);
 * the largest relative weight difference after the same steps. Then the detector alone with learning
 * (default config, fused engine, `--events` generator events in batches of 256, explanations on), old and
 * new alternating, median of `--repeats`. Prints tables; asserts nothing.
 *
 *   npx tsx bench/step-vs-ref.bench.ts --ref=e4f3fb4 [--blocks=15] [--events=20000] [--repeats=5]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { loadConfig as LoadConfig } from '../src/config/index.js';
import { loadConfig } from '../src/config/index.js';
import { createRng } from '../src/core/rng.js';
import type { createDetector as CreateDetector } from '../src/detector/factory.js';
import { createDetector } from '../src/detector/factory.js';
import { initBackend } from '../src/flow/backend.js';
import { realNVP } from '../src/flow/builders.js';
import * as tf from '../src/flow/tf.js';
import { Trainer } from '../src/flow/trainer.js';
import type { FeatureEvent } from '../src/streams/types.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { generatedRows } from './lib/fixture.js';
import { markdownTable, median } from './lib/stats.js';
import { clockMs } from './lib/timing.js';

interface StepTrainer {
  step(x: tf.Tensor2D): Promise<unknown>;
  readonly flow: { trainableVariables(): readonly tf.Variable[]; dispose(): void };
  dispose(): void;
}

/** `src/` of `ref` under scratch/, extracted once. */
function extract(ref: string): string {
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { encoding: 'utf8' }).trim();
  const dir = join('scratch', `ref-${sha}`);
  if (!existsSync(join(dir, 'src'))) {
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${sha} src | tar -x -C ${dir}`]);
  }
  return dir;
}

async function refTrainer(dir: string): Promise<StepTrainer> {
  const root = join(process.cwd(), dir, 'src', 'flow');
  const b = (await import(join(root, 'builders.ts'))) as { realNVP: typeof realNVP };
  const t = (await import(join(root, 'trainer.ts'))) as { Trainer: typeof Trainer };
  return new t.Trainer(b.realNVP({ dim: 8, layers: 6, hidden: 64, seed: 1 }), {
    engine: 'fused',
    clipNorm: 1,
  }) as StepTrainer;
}

const FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];

interface DetectorModules {
  readonly loadConfig: typeof LoadConfig;
  readonly createDetector: typeof CreateDetector;
}

/** Events per CPU-second of the detector alone with learning, `[ref, this checkout]`, alternating. */
async function detectorRates(dir: string, events: number, repeats: number): Promise<number[]> {
  const src = join(process.cwd(), dir, 'src');
  const mods: DetectorModules[] = [
    {
      loadConfig: ((await import(join(src, 'config', 'index.ts'))) as DetectorModules).loadConfig,
      createDetector: ((await import(join(src, 'detector', 'factory.ts'))) as DetectorModules).createDetector,
    },
    { loadConfig, createDetector },
  ];
  const rows = generatedRows({ seed: 2024, count: events, fields: FIELDS, anomalyRate: 0.01 });
  const batches: FeatureEvent[][] = [];
  for (let s = 0; s < events; s += 256) {
    const b: FeatureEvent[] = [];
    for (let i = s; i < Math.min(events, s + 256); i++) {
      const ref = { topic: 'bench', partition: 0, offset: String(i) };
      b.push({ ref, timestamp: i * 60_000, key: null, features: rows.values.slice(i * 8, (i + 1) * 8) });
    }
    batches.push(b);
  }
  const rates: number[][] = [[], []];
  for (let r = 0; r < repeats; r++) {
    for (const [k, m] of mods.entries()) {
      const config = m.loadConfig({
        env: {},
        overrides: { backend: 'wasm', features: { fields: FIELDS }, metrics: { enabled: false } },
      });
      const parts = m.createDetector(config);
      let n = 0;
      const c0 = clockMs('cpu');
      for (const b of batches) n += (await parts.detector.process(b)).length;
      rates[k]!.push((n * 1000) / (clockMs('cpu') - c0));
      parts.dispose();
    }
  }
  return rates.map(median);
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), ['ref', 'blocks', 'backend', 'events', 'repeats']);
  const ref = args.values.get('ref') ?? 'HEAD~1';
  const blocks = Math.round(numberArg(args, 'blocks', 15));
  const backend = (await initBackend((args.backend ?? 'wasm') as 'wasm')).name;
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ');
  const rng = createRng(1);
  const x = tf.tensor2d(
    Float32Array.from({ length: 256 * 8 }, () => rng.normal()),
    [256, 8],
  );
  const dir = extract(ref);
  const trainers: StepTrainer[] = [
    await refTrainer(dir),
    new Trainer(realNVP({ dim: 8, layers: 6, hidden: 64, seed: 1 }), { engine: 'fused', clipNorm: 1 }),
  ];
  process.stdout.write(`# Fused step vs ${ref} (${backend}, process CPU time)\n\nload average ${load()}\n\n`);
  try {
    for (const t of trainers) for (let i = 0; i < 30; i++) await t.step(x);
    const kernels: number[] = [];
    for (const t of trainers)
      kernels.push(
        (
          await tf.profile(async () => {
            await t.step(x);
          })
        ).kernels.length,
      );
    const runs: number[][] = [[], []];
    for (let r = 0; r < blocks; r++) {
      for (const [k, t] of trainers.entries()) {
        const c0 = clockMs('cpu');
        for (let i = 0; i < 50; i++) await t.step(x);
        runs[k]!.push((clockMs('cpu') - c0) / 50);
      }
    }
    const ms = runs.map(median);
    const [a, b] = trainers.map((t) => t.flow.trainableVariables().map((v) => v.dataSync()));
    let maxRel = 0;
    for (const [i, vs] of a!.entries()) {
      for (const [j, v] of vs.entries()) {
        maxRel = Math.max(maxRel, Math.abs(v - b![i]![j]!) / Math.max(1e-6, Math.abs(v)));
      }
    }
    const table = markdownTable(
      ['fused step (6×64, d = 8, batch 256)', 'kernels', 'CPU ms/step', 'vs ref'],
      [`${ref}`, 'this checkout'].map((n, k) => [
        n,
        String(kernels[k]),
        ms[k]!.toFixed(2),
        `${(ms[0]! / ms[k]!).toFixed(2)}×`,
      ]),
    );
    process.stdout.write(
      `${table}\n\nlargest relative weight difference after the same steps: ${maxRel.toExponential(1)}\n\n`,
    );
    const events = Math.round(numberArg(args, 'events', 20_000));
    const repeats = Math.round(numberArg(args, 'repeats', 5));
    const rates = await detectorRates(dir, events, repeats);
    const detector = markdownTable(
      [`detector alone, score + learn, ${events} events (median of ${repeats})`, 'events /CPU-s', 'vs ref'],
      [`${ref}`, 'this checkout'].map((n, k) => [
        n,
        rates[k]!.toFixed(0),
        `${(rates[k]! / rates[0]!).toFixed(2)}×`,
      ]),
    );
    process.stdout.write(`${detector}\n\nload average ${load()} at the end\n`);
  } finally {
    for (const t of trainers) {
      t.dispose();
      t.flow.dispose();
    }
    x.dispose();
  }
}

await main();
