import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hasTaskset } from './python.js';

const PINNED_ENV = 'FLOWSENTINEL_BENCH_PINNED';

/** The CPUs this process may run on (Linux `Cpus_allowed_list`), or undefined when unknown. */
export function allowedCpus(): string | undefined {
  try {
    return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Re-runs this benchmark under `taskset -c <cpu>` (one core) when taskset exists and the process is not
 * pinned yet; returns true when it did (the caller then exits with the child's status, already set).
 */
export function reexecOnOneCore(cpu = 0): boolean {
  const allowed = allowedCpus();
  if (process.env[PINNED_ENV] === '1' || allowed === String(cpu) || !hasTaskset()) return false;
  const argv = [...process.execArgv, ...process.argv.slice(1)];
  const r = spawnSync('taskset', ['-c', String(cpu), process.execPath, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, [PINNED_ENV]: '1' },
  });
  process.exitCode = r.status ?? 1;
  return true;
}
