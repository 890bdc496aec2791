/**
 * Does learning in fewer, larger steps cost detection quality? The built-in default (RealNVP 6×64,
 * micro-batches of 256, one 256-row step per batch, lr 0.001) against the step shapes of
 * bench/step-shape.bench.ts: (a) a 512-row step on every other batch (`training.batchSize` 512,
 * `training.maxLearnFraction` 0.5) and (b) 512-event micro-batches with one 512-row step each; a15, a2
 * and b2 are (a) or (b) at lr 0.0015 or 0.002.
 *
 * - `--part=tabular`: `evaluateTabularDetail` on every tabular set at each seed, the built-in model,
 *   training and batching; only warm-up and threshold are the tabular ones (warm-up 256, quantile 0.01 of
 *   all rows), since the built-in 2,000-event warm-up would leave cardio unscored. Masked ROC-AUC and PR-AUC.
 * - `--part=demo`: the demo stream (config/demo.yaml: its features, threshold, drift, suppression) with
 *   the built-in training instead of the demo's 3 steps at lr 0.003, over stream seeds: precision, recall
 *   and the drift delay (events from the injected drift to the first confirmed drift).
 *
 * Prints tables; asserts nothing. Quality does not depend on timing, so the load does not matter.
 *
 *   npx tsx bench/step-shape-quality.bench.ts --part=tabular|demo [--data=../shared/data]
 *     [--seeds=42,1,2] [--demo-seeds=7,1,2,3,11] [--variants=default,a,b,a15,a2,b2] [--events=20000]
 *     [--datasets=cardio,thyroid] [--model-seeds=42]
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../src/cli/demo.js';
import { type ConfigOverrides, loadConfig } from '../src/config/load.js';
import { InvalidOptionError } from '../src/errors.js';
import { datasetName, evaluateTabularDetail } from '../src/evaluate/tabular.js';
import { initBackend } from '../src/flow/backend.js';
import { createLogger } from '../src/logging.js';
import { parseBenchArgs } from './lib/args.js';
import { markdownTable } from './lib/stats.js';

const VARIANTS: Readonly<Record<string, { readonly label: string; readonly o: ConfigOverrides }>> = {
  default: { label: 'default: 256-row step every batch of 256', o: {} },
  a: {
    label: '(a) 512-row step every other batch of 256',
    o: { training: { batchSize: 512, maxLearnFraction: 0.5 } },
  },
  b: {
    label: '(b) 512-row step every batch of 512',
    o: { training: { batchSize: 512 }, batching: { maxSize: 512 } },
  },
  a15: {
    label: '(a) at lr 0.0015',
    o: { training: { batchSize: 512, maxLearnFraction: 0.5, learningRate: 0.0015 } },
  },
  a2: {
    label: '(a) at lr 0.002',
    o: { training: { batchSize: 512, maxLearnFraction: 0.5, learningRate: 0.002 } },
  },
  b2: {
    label: '(b) at lr 0.002',
    o: { training: { batchSize: 512, learningRate: 0.002 }, batching: { maxSize: 512 } },
  },
};

/** The built-in training, whatever a config file set. */
const BUILT_IN_TRAINING: ConfigOverrides = {
  training: { stepsPerBatch: 1, learningRate: 0.001, batchSize: 256 },
  batching: { maxSize: 256 },
};

const TABULAR_RUN: ConfigOverrides = {
  warmup: { events: 256 },
  threshold: { policy: 'quantile', quantile: 0.01, budget: 'all', window: 5000, minObservations: 256 },
  batching: { highWaterMark: 2048 },
  metrics: { enabled: false },
  explain: { enabled: false },
};

function merge(...parts: ConfigOverrides[]): ConfigOverrides {
  const out: Record<string, unknown> = {};
  for (const p of parts) {
    for (const [k, v] of Object.entries(p)) {
      const prev = out[k];
      out[k] =
        typeof v === 'object' && v !== null && typeof prev === 'object' && prev !== null
          ? { ...prev, ...v }
          : v;
    }
  }
  return out as ConfigOverrides;
}

function tabularSetFiles(data: string, only: string[] | undefined): string[] {
  const dir = join(data, 'tabular');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.csv.gz') || f.endsWith('.csv'))
    .sort()
    .map((f) => join(dir, f))
    .filter((f) => only === undefined || only.includes(datasetName(f)));
}

const list = (raw: string | undefined, fallback: string): string[] => (raw ?? fallback).split(',');
const f3 = (x: number): string => x.toFixed(3);
const spread = (xs: readonly number[]): number => Math.max(...xs) - Math.min(...xs);
const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

async function tabular(files: string[], seeds: number[], variants: string[], dir: string): Promise<void> {
  const rows: string[][] = [];
  for (const file of files) {
    const roc: Record<string, number[]> = {};
    const pr: Record<string, number[]> = {};
    for (const v of variants) {
      roc[v] = [];
      pr[v] = [];
      for (const seed of seeds) {
        const { result } = await evaluateTabularDetail({
          file,
          seed,
          configFile: join(dir, 'empty.yaml'),
          overrides: merge(BUILT_IN_TRAINING, TABULAR_RUN, VARIANTS[v]!.o),
        });
        roc[v]!.push(result.rocAuc);
        pr[v]!.push(result.prAuc);
        process.stderr.write(
          `  ${datasetName(file)} ${v} seed ${seed}: ROC ${f3(result.rocAuc)} PR ${f3(result.prAuc)}\n`,
        );
      }
    }
    const base = mean(roc.default ?? roc[variants[0]!]!);
    for (const v of variants) {
      const r = roc[v]!;
      rows.push([
        datasetName(file),
        v,
        r.map(f3).join(' / '),
        f3(mean(r)),
        f3(spread(r)),
        `${mean(r) - base >= 0 ? '+' : ''}${f3(mean(r) - base)}`,
        f3(mean(pr[v]!)),
        f3(spread(pr[v]!)),
      ]);
    }
  }
  const head = [
    'set',
    'variant',
    `ROC-AUC (masked) seeds ${seeds.join(' / ')}`,
    'mean',
    'spread',
    'Δ mean',
    'PR-AUC mean',
    'PR spread',
  ];
  process.stdout.write(`${markdownTable(head, rows)}\n\n`);
}

async function demo(
  seeds: number[],
  modelSeeds: number[],
  variants: string[],
  events: number,
  dir: string,
): Promise<void> {
  const logger = createLogger({ level: 'error', destination: process.stderr });
  const rows: string[][] = [];
  for (const v of variants) {
    for (const [seed, modelSeed] of seeds.flatMap((s) => modelSeeds.map((m) => [s, m] as const))) {
      const config = loadConfig({
        file: 'config/demo.yaml',
        env: {},
        overrides: merge(BUILT_IN_TRAINING, VARIANTS[v]!.o, {
          demo: { seed, events, report: join(dir, 'demo.html') },
          model: { seed: modelSeed },
          metrics: { enabled: false },
        }),
      });
      const r = await runDemo(config, logger);
      const start = r.injectedDrift?.start ?? 0;
      const confirmed = r.driftEvents.filter((d) => d.event.kind !== 'ended');
      const first = confirmed.find((d) => d.index >= start);
      const early = confirmed.filter((d) => d.index < start).length;
      rows.push([
        v,
        String(seed),
        String(modelSeed),
        f3(r.precision),
        f3(r.recall),
        first === undefined ? 'missed' : String(first.index - start),
        String(early),
      ]);
      process.stderr.write(
        `  demo ${v} seed ${seed} model ${modelSeed}: P ${f3(r.precision)} R ${f3(r.recall)}\n`,
      );
    }
  }
  const head = [
    'variant',
    'stream seed',
    'model seed',
    'precision',
    'recall',
    'drift delay (events)',
    'drifts before',
  ];
  process.stdout.write(`${markdownTable(head, rows)}\n\n`);
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), [
    'part',
    'data',
    'seeds',
    'demo-seeds',
    'variants',
    'events',
    'datasets',
    'model-seeds',
  ]);
  const part = args.values.get('part') ?? 'tabular';
  const variants = list(args.values.get('variants'), 'default,a,b');
  for (const v of variants) {
    if (VARIANTS[v] === undefined)
      throw new InvalidOptionError(`unknown variant "${v}"; use one of ${Object.keys(VARIANTS).join(', ')}`);
  }
  await initBackend('wasm');
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ');
  process.stdout.write(`# Step shape and quality (${part}); load average ${load()} at the start\n\n`);
  for (const v of variants) process.stdout.write(`- ${v}: ${VARIANTS[v]!.label}\n`);
  process.stdout.write('\n');
  const dir = await mkdtemp(join(tmpdir(), 'flowsentinel-step-quality-'));
  try {
    await writeFile(join(dir, 'empty.yaml'), 'metrics:\n  enabled: false\n');
    if (part === 'tabular') {
      const seeds = list(args.values.get('seeds'), '42,1,2').map(Number);
      const only = args.values.get('datasets')?.split(',');
      const files = tabularSetFiles(args.values.get('data') ?? '../shared/data', only);
      await tabular(files, seeds, variants, dir);
    } else {
      const seeds = list(args.values.get('demo-seeds'), '7,1,2,3,11').map(Number);
      const modelSeeds = list(args.values.get('model-seeds'), '42').map(Number);
      await demo(seeds, modelSeeds, variants, Number(args.values.get('events') ?? 20_000), dir);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write(`load average ${load()} at the end\n`);
}

await main();
