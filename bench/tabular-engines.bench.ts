/**
 * Does the engine move quality? `evaluate tabular` with config/tabular.yaml on every tabular set, once with
 * `model.engine: fused` (for this flow the host engine, float64) and once with `autodiff` (tfjs float32),
 * same seed: ROC-AUC, PR-AUC, realised alert rate and process CPU seconds of each (issue 14 acceptance:
 * ROC-AUC within ±0.005 of the autodiff engine's).
 *
 *   npx tsx bench/tabular-engines.bench.ts [--data=../shared/data/tabular] [--seed=42]
 */
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { evaluateTabular } from '../src/evaluate/tabular.js';
import { initBackend } from '../src/flow/backend.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { markdownTable } from './lib/stats.js';

const ENGINES = ['fused', 'autodiff'] as const;

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), ['data', 'seed']);
  const dir = args.values.get('data') ?? '../shared/data/tabular';
  const seed = numberArg(args, 'seed', 42);
  await initBackend('wasm');
  const files = readdirSync(dir)
    .filter((f) => /\.csv(\.gz)?$/.test(f))
    .sort();
  console.log(`load average ${loadavg()[0]!.toFixed(1)}`);
  const rows: string[][] = [];
  for (const f of files) {
    const cells = [f.replace(/\.csv(\.gz)?$/, '')];
    for (const engine of ENGINES) {
      const t0 = process.cpuUsage();
      const r = await evaluateTabular({ file: join(dir, f), seed, overrides: { model: { engine } } });
      const u = process.cpuUsage(t0);
      cells.push(
        r.rocAuc.toFixed(4),
        r.prAuc.toFixed(4),
        r.realisedAlertRate.toFixed(4),
        ((u.user + u.system) / 1e6).toFixed(1),
      );
    }
    rows.push(cells);
  }
  const header = [
    'set',
    ...ENGINES.flatMap((e) => [`${e} ROC-AUC`, `${e} PR-AUC`, `${e} rate`, `${e} CPU s`]),
  ];
  console.log(markdownTable(header, rows));
  console.log(`load average ${loadavg()[0]!.toFixed(1)}`);
}

await main();
