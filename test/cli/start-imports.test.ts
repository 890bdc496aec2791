/**
 * What one CLI start loads (docs/architecture.md, "Layout of src/"): `--version`, `--help` and usage errors
 * load no tfjs, kafkajs, prom-client, config schema or logger, and `validate-config` no tfjs, kafkajs or
 * logger; each command imports its modules only when it runs. Every module the ESM loader loads is logged
 * by a load hook registered before tsx.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFromSource, REPO_ROOT } from '../helpers/detector-cli.js';

/** Writes `LOAD <url>` to stderr for every module loaded after it, from the hooks thread. */
const HOOKS = `export async function load(url, context, next) {
  process.stderr.write('LOAD ' + url + '\\n');
  return next(url, context);
}
`;
const REGISTER = (hooks: string): string =>
  `import { register } from 'node:module';\nregister(${JSON.stringify(hooks)});\n`;

/** Packages that only running commands need. */
const RUNTIME_PACKAGES = ['@tensorflow', 'kafkajs', 'prom-client', 'pino', 'pino-pretty', 'rxjs', 'vega'];
/** Packages of the config schema: `validate-config` needs them, `--help` does not. */
const CONFIG_PACKAGES = ['zod', 'yaml'];

let dir: string;
let register: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowsentinel-start-imports-'));
  await writeFile(join(dir, 'hooks.mjs'), HOOKS);
  await writeFile(join(dir, 'register.mjs'), REGISTER(pathToFileURL(join(dir, 'hooks.mjs')).href));
  register = pathToFileURL(join(dir, 'register.mjs')).href;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `flowsentinel <args>` from source; resolves to its exit code and the packages it loaded. */
function packagesLoaded(args: readonly string[]): Promise<{ code: number; packages: Set<string> }> {
  const cli = cliFromSource(args);
  return new Promise((resolve, reject) => {
    execFile(
      cli.file,
      ['--import', register, ...cli.args],
      { cwd: REPO_ROOT, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, _stdout, stderr) => {
        if (err !== null && typeof err.code !== 'number') {
          reject(err);
          return;
        }
        const packages = new Set<string>();
        for (const m of stderr.matchAll(/^LOAD .*\/node_modules\/((?:@[^/]+)|[^/@]+)\//gm)) {
          packages.add(m[1]!.startsWith('vega') ? 'vega' : m[1]!);
        }
        resolve({ code: err === null ? 0 : (err.code as number), packages });
      },
    );
  });
}

describe('a CLI start loads only what its command needs', () => {
  it.each([
    [['--version'], 0],
    [['--help'], 0],
    [['demo', '--help'], 0],
    [['no-such-command'], 2],
  ])('flowsentinel %j loads commander, no runtime or config packages', async (args, exitCode) => {
    const r = await packagesLoaded(args);
    expect(r.code).toBe(exitCode);
    expect(r.packages).toContain('commander'); // the hook saw the loads
    for (const name of [...RUNTIME_PACKAGES, ...CONFIG_PACKAGES]) expect(r.packages).not.toContain(name);
  });

  it('validate-config loads the config schema but no runtime package', async () => {
    const r = await packagesLoaded(['validate-config', '-c', 'config/demo.yaml']);
    expect(r.code).toBe(0);
    for (const name of CONFIG_PACKAGES) expect(r.packages).toContain(name);
    for (const name of RUNTIME_PACKAGES) expect(r.packages).not.toContain(name);
  });
});
