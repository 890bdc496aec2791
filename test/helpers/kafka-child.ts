/**
 * A job as a real child process: `flowsentinel run` (src/cli/main.ts) or a script, started as `node
 * --import <tsx loader>` so that a SIGKILL reaches the process doing the work (the tsx CLI would run it
 * in a grandchild).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running child process with its captured output. */
export interface CliChild {
  readonly process: ChildProcess;
  readonly exited: Promise<ChildExit>;
  /** The exit once it happened, else undefined. */
  exit(): ChildExit | undefined;
  stdout(): string;
  stderr(): string;
  /** Throws (with the stderr tail) if the child has exited: for waits that must fail fast. */
  assertAlive(): void;
}

/** Runs `node --import tsx <script> ...args` in the repository root; stdout and stderr are captured. */
export function startNodeScript(script: string, args: readonly string[], name = script): CliChild {
  const loader = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const child = spawn(process.execPath, ['--import', loader, script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  let exit: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  return {
    process: child,
    exited,
    exit: () => exit,
    stdout: () => out,
    stderr: () => err,
    assertAlive() {
      if (exit !== undefined) {
        throw new Error(`${name} exited early (${JSON.stringify(exit)}): ${err.slice(-4000)}`);
      }
    },
  };
}

/** `flowsentinel run --config <configFile>` as a child process. */
export function startCliRun(configFile: string, name = 'flowsentinel run'): CliChild {
  return startNodeScript(join(ROOT, 'src/cli/main.ts'), ['run', '--config', configFile], name);
}
