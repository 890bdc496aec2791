import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FlowsentinelError } from '../../src/errors.js';

/** The Python peers' environment could not be set up or a peer script failed. */
export class PythonPeerError extends FlowsentinelError {}

/** Repository root (this file is bench/lib/python.ts). */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
/** Virtualenv of the Python peers, outside git. */
export const VENV_DIR = join(REPO_ROOT, '.cache', 'bench-venv');
const PY_DIR = join(REPO_ROOT, 'bench', 'python');
const STAMP = join(VENV_DIR, '.flowsentinel-requirements');

function requirementsHash(): string {
  const h = createHash('sha256');
  for (const f of ['requirements.txt', 'constraints.txt']) h.update(readFileSync(join(PY_DIR, f)));
  return h.digest('hex');
}

function run(command: string, args: readonly string[], what: string): void {
  // Tool output goes to stderr: stdout carries only the benchmark tables.
  const r = spawnSync(command, args, { stdio: ['ignore', 2, 2], cwd: REPO_ROOT });
  if (r.status !== 0) {
    throw new PythonPeerError(
      `${what} failed (${command} ${args.join(' ')} exited ${String(r.status ?? r.signal)}); ` +
        `check python3 (with venv) and access to PyPI, or delete ${VENV_DIR} and retry`,
    );
  }
}

/**
 * Creates `.cache/bench-venv` and installs bench/python/requirements.txt (pinned by constraints.txt) from
 * PyPI unless the venv already holds exactly those requirements. Returns the venv's python. Idempotent;
 * the first install downloads ≈ 3 GB (torch with its CUDA libraries, see requirements.txt).
 */
export function ensureVenv(): string {
  const python = join(VENV_DIR, 'bin', 'python');
  const want = requirementsHash();
  if (existsSync(python) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === want) return python;
  process.stderr.write(`setting up the Python peers in ${VENV_DIR} (river, torch from PyPI)…\n`);
  if (!existsSync(python)) run('python3', ['-m', 'venv', VENV_DIR], 'creating the virtualenv');
  run(python, ['-m', 'pip', 'install', '--quiet', '--upgrade', 'pip'], 'upgrading pip');
  const req = ['-r', join(PY_DIR, 'requirements.txt'), '-c', join(PY_DIR, 'constraints.txt')];
  run(python, ['-m', 'pip', 'install', '--quiet', ...req], 'installing the peers');
  writeFileSync(STAMP, `${want}\n`);
  return python;
}

/** Options of `runPython`. */
export interface PythonRunOptions {
  /** Prefix the command with `taskset -c <cpu>` when taskset exists (one core). */
  readonly pinCpu?: number;
}

/** Whether `taskset` is available (to pin a process to one core). */
export function hasTaskset(): boolean {
  return spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;
}

/** Runs `bench/python/<script>` with `args` in the venv; its output goes to stderr. Rejects on failure. */
export function runPython(
  python: string,
  script: string,
  args: readonly string[],
  options: PythonRunOptions = {},
): Promise<void> {
  const argv = [join(PY_DIR, script), ...args];
  const pin = options.pinCpu !== undefined && hasTaskset();
  const [cmd, cmdArgs] = pin ? ['taskset', ['-c', String(options.pinCpu), python, ...argv]] : [python, argv];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 2, 2], cwd: REPO_ROOT });
    child.on('error', (err) => reject(new PythonPeerError(`could not start ${script}`, { cause: err })));
    child.on('exit', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new PythonPeerError(`${script} exited ${String(code ?? signal)}; see its output above`));
    });
  });
}
