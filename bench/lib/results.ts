import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import * as tf from '../../src/flow/tf.js';
import { REPO_ROOT } from './python.js';

/** Where the benchmarks write their JSON results. */
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

/** The machine and run a result was measured on. */
export interface MachineInfo {
  readonly date: string;
  readonly node: string;
  readonly tfjs: string;
  readonly backend: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  /** 1, 5 and 15 min load averages when the result was written. */
  readonly loadAverage: readonly number[];
  readonly command: string;
}

/** Facts about this machine and process, for the JSON results. */
export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    tfjs: tf.version_core,
    backend: tf.getBackend() ?? 'none',
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    command: ['npx tsx', ...process.argv.slice(1).map((a) => a.replace(`${REPO_ROOT}/`, ''))].join(' '),
  };
}

/** JSON replacer: non-finite numbers become null (JSON has no NaN). */
function finiteOrNull(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

/** Writes `bench/results/<name>.json` with the machine facts added; returns its path. */
export async function writeResults(name: string, body: Record<string, unknown>): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.json`);
  await writeFile(path, `${JSON.stringify({ machine: machineInfo(), ...body }, finiteOrNull, 2)}\n`);
  // The results are committed, and `biome check .` formats JSON its own way.
  spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', path], {
    stdio: 'ignore',
  });
  return path;
}

/** A signed difference with a fixed number of decimals, e.g. `+0.012` / `-0.034`. */
export function signed(value: number, digits: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const s = value.toFixed(digits);
  return value >= 0 ? `+${s}` : s;
}
