/**
 * Score + learn throughput of the tabular default (config/tabular.yaml) at d = 8 and d = 36, per CPU
 * second of the process (steadier than wall time on a shared machine), detector alone (decoded rows,
 * micro-batches of `batching.maxSize`), against the old marginal-only model and the fused RealNVP.
 *
 * Before the table, `--warmup` events (default 2000) go through a throwaway detector of the default at the
 * first dimension, untimed, so that the first row does not pay the JIT compilation of the host engine.
 *
 * `--candidates=<name>;<name>` measures those candidates of the tabular-default selection
 * (bench/lib/tabular-candidates.ts) instead of the fixed variants, after the default, in the same run
 * (the machine is shared, so only rows of one run compare).
 *
 *   npx tsx bench/tabular-throughput.bench.ts [--events=6000] [--dims=8,36] [--warmup=2000] [--candidates=a;b]
 */
import { loadavg } from 'node:os';
import type { AppConfig } from '../src/config/index.js';
import type { ConfigOverrides } from '../src/config/load.js';
import { createRng } from '../src/core/rng.js';
import { InvalidOptionError } from '../src/errors.js';
import { loadEvaluationConfig, TABULAR_CONFIG_FILE, TABULAR_DEFAULTS } from '../src/evaluate/config.js';
import { initBackend } from '../src/flow/backend.js';
import type { FeatureEvent } from '../src/streams/types.js';
import { TABULAR_CANDIDATES } from './lib/tabular-candidates.js';
import { detectorRun } from './lib/throughput-engines.js';

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.slice(name.length + 3);
}

/** Seeded rows with a correlated structure: three latent factors mixed into `d` features plus noise. */
function batches(d: number, n: number, size: number): FeatureEvent[][] {
  const rng = createRng(d);
  const mix = Array.from({ length: d }, () => [rng.normal(), rng.normal(), rng.normal()]);
  const out: FeatureEvent[][] = [];
  for (let s = 0; s < n; s += size) {
    const batch: FeatureEvent[] = [];
    for (let i = s; i < Math.min(n, s + size); i++) {
      const f = [rng.normal(), rng.normal(), rng.normal()];
      const row = mix.map((m) => m[0]! * f[0]! + m[1]! * f[1]! + m[2]! * f[2]! + 0.3 * rng.normal());
      const ref = { topic: 'bench', partition: 0, offset: String(i) };
      batch.push({ ref, timestamp: i * 1000, key: null, features: Float32Array.from(row) });
    }
    out.push(batch);
  }
  return out;
}

const VARIANTS: Record<string, ConfigOverrides> = {
  'config/tabular.yaml (engine fused: host engine)': {},
  'config/tabular.yaml, engine autodiff (tfjs reference)': { model: { engine: 'autodiff' } },
  'config/tabular.yaml, micro-batches of 256, 1 step of 256 rows': {
    batching: { maxSize: 256 },
    training: { stepsPerBatch: 1, batchSize: 256 },
  },
  'marginal only (mixture-cdf 8, old default)': { model: { type: 'mixture-cdf', components: 8 } },
  'realnvp 4×64 fused (reference)': { model: { type: 'realnvp', layers: 4, hidden: 64 } },
};

/** The rows to measure: the fixed variants, or the default and the named selection candidates. */
function variants(names: string | undefined): Record<string, ConfigOverrides> {
  if (names === undefined) return VARIANTS;
  const out: Record<string, ConfigOverrides> = { 'config/tabular.yaml (engine fused: host engine)': {} };
  for (const name of names.split(';')) {
    const c = TABULAR_CANDIDATES.find((x) => x.name === name);
    if (c === undefined) {
      throw new InvalidOptionError(
        `--candidates: no candidate "${name}"; names: ${TABULAR_CANDIDATES.map((x) => x.name).join('; ')}`,
      );
    }
    out[c.name] = c.overrides;
  }
  return out;
}

/** config/tabular.yaml for `d` features with `overrides`. */
function tabularConfig(d: number, overrides: ConfigOverrides): AppConfig {
  const fields = Array.from({ length: d }, (_, j) => `f${j}`);
  return loadEvaluationConfig({
    defaultFile: TABULAR_CONFIG_FILE,
    defaults: TABULAR_DEFAULTS,
    fields,
    env: {},
    overrides,
  }).config;
}

async function main(): Promise<void> {
  await initBackend(arg('backend', 'wasm') as 'wasm');
  const events = Number(arg('events', '6000'));
  const dims = arg('dims', '8,36').split(',').map(Number);
  const warmup = Number(arg('warmup', '2000'));
  const rows = variants(process.argv.find((a) => a.startsWith('--candidates='))?.slice(13));
  if (warmup > 0) {
    const config = tabularConfig(dims[0]!, {});
    await detectorRun(config, batches(dims[0]!, warmup, config.batching.maxSize));
  }
  console.log(`load average ${loadavg()[0]!.toFixed(1)}`);
  console.log('| model | d | score + learn ev/CPU-s | score + learn ev/wall-s |');
  console.log('| --- | --: | --: | --: |');
  for (const d of dims) {
    for (const [name, overrides] of Object.entries(rows)) {
      const config = tabularConfig(d, overrides);
      const run = await detectorRun(config, batches(d, events, config.batching.maxSize));
      console.log(`| ${name} | ${d} | ${Math.round(run.cpu)} | ${Math.round(run.wall)} |`);
    }
  }
  console.log(`load average ${loadavg()[0]!.toFixed(1)}`);
}

await main();
