/**
 * One tabular set of bench:quality in its own process (`--jobs` > 1): runs `evaluateTabularDetail` and
 * writes the `TabularResult` as JSON, non-finite numbers as strings ("NaN", "Infinity").
 *
 *   tsx bench/lib/quality-worker.ts <file> <out.json> <seed> [config] [overrides as JSON]
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigOverrides } from '../../src/config/load.js';
import { FlowsentinelError } from '../../src/errors.js';
import { evaluateTabularDetail, type TabularResult } from '../../src/evaluate/tabular.js';
import { REPO_ROOT } from './python.js';

const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);

/** Evaluates `file` in a child process (`overrides` over the config); resolves with its result. */
export async function evaluateInChild(
  file: string,
  out: string,
  seed: number,
  config: string | undefined,
  overrides?: ConfigOverrides,
): Promise<TabularResult> {
  const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const args = [join(REPO_ROOT, 'bench', 'lib', 'quality-worker.ts'), file, out, String(seed)];
  if (config !== undefined || overrides !== undefined) args.push(config ?? '');
  if (overrides !== undefined) args.push(JSON.stringify(overrides));
  await new Promise<void>((resolve, reject) => {
    const child = spawn(tsx, args, { stdio: ['ignore', 2, 2], cwd: REPO_ROOT });
    child.on('error', (err) =>
      reject(new FlowsentinelError(`could not start the worker for ${file}`, { cause: err })),
    );
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new FlowsentinelError(`the worker for ${file} exited ${String(code ?? signal)}`)),
    );
  });
  return JSON.parse(await readFile(out, 'utf8'), (_k, v: unknown) =>
    typeof v === 'string' && NON_FINITE.has(v) ? Number(v) : v,
  ) as TabularResult;
}

/** Runs `tasks` with at most `limit` at a time; results in task order. */
export async function pool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, lane));
  return results;
}

async function main(): Promise<void> {
  const [file, out, seed, config, overrides] = process.argv.slice(2);
  if (file === undefined || out === undefined || seed === undefined) {
    throw new FlowsentinelError(
      'usage: quality-worker.ts <file> <out.json> <seed> [config] [overrides as JSON]',
    );
  }
  const { result } = await evaluateTabularDetail({
    file,
    seed: Number(seed),
    ...(config === undefined || config === '' ? {} : { configFile: config }),
    ...(overrides === undefined ? {} : { overrides: JSON.parse(overrides) as ConfigOverrides }),
  });
  const text = JSON.stringify(result, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
  await writeFile(out, text);
  process.stderr.write(
    `  flowsentinel ${result.dataset}: ${result.rows} rows in ${result.elapsedSeconds.toFixed(0)} s\n`,
  );
}

if (process.argv[1]?.endsWith('quality-worker.ts')) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
