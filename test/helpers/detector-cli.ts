/**
 * Runs the CLI from source in a child process: `node --import tsx src/cli/main.ts …`, one process, where
 * `npx tsx src/cli/main.ts …` started three (npm's npx, the tsx CLI, then node), about 1 s more CPU per
 * start (docs/benchmarks.md, "CLI start-up").
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Repository root (where package.json is). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Exit code and output of a CLI run. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment without FLOWSENTINEL_* variables (which would override the config under test), except
 * the backend choice the test run itself uses.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('FLOWSENTINEL_') || k === 'FLOWSENTINEL_BACKEND') env[k] = v;
  }
  return env;
}

/**
 * The executable and arguments that start `flowsentinel <args>` from source: node itself with the tsx
 * loader. Start it with the repository root as working directory (where `--import tsx` resolves).
 */
export function cliFromSource(args: readonly string[]): { file: string; args: string[] } {
  return { file: process.execPath, args: ['--import', 'tsx', 'src/cli/main.ts', ...args] };
}

/** Runs `flowsentinel <args>` from source with the repository root as working directory. */
export function runCli(args: readonly string[], timeoutMs = 120_000): Promise<CliResult> {
  const cli = cliFromSource(args);
  return new Promise((resolve, reject) => {
    execFile(
      cli.file,
      cli.args,
      { cwd: REPO_ROOT, env: childEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== 'number') {
          reject(err);
          return;
        }
        resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
      },
    );
  });
}
