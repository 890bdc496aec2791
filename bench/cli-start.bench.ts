/**
 * What one start of the CLI costs: CPU time (user + sys of the process and every process it waited for)
 * and wall time of `--version`, `--help`, `validate-config` and a short `demo`, started the ways people
 * and tests start it: the built `node dist/cli/main.js`, `node --import tsx src/cli/main.ts` (the test
 * helper `runCli`) and `npx tsx src/cli/main.ts`. With `--before=<dir>` (another checkout with its
 * node_modules and, for `dist`, its build) the two trees run alternately, so both see the same load.
 * Medians of `--runs` starts. Linux only (children's CPU from /proc/self/stat). Not a test: no assertions.
 *
 *   npx tsx bench/cli-start.bench.ts [--runs=5] [--before=<dir>] [--modes=dist,tsx,npx]
 *     [--commands=version,help,validate,demo]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidOptionError } from '../src/errors.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { markdownTable, median } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MODES = ['dist', 'tsx', 'npx'] as const;
type Mode = (typeof MODES)[number];
const COMMANDS = ['version', 'help', 'validate', 'demo'] as const;
type CommandName = (typeof COMMANDS)[number];

/** One measured start. */
interface Sample {
  readonly cpuS: number;
  readonly wallS: number;
}

/** Seconds per clock tick of /proc/<pid>/stat. */
const TICK_S = 1 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU seconds (user + sys) of the children this process has waited for so far. */
function childrenCpuS(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of proc(5) (cutime, cstime); the slice starts at field 3.
  return (Number(fields[13]) + Number(fields[14])) * TICK_S;
}

function commandArgs(name: CommandName, scratch: string): string[] {
  switch (name) {
    case 'version':
      return ['--version'];
    case 'help':
      return ['--help'];
    case 'validate':
      return ['validate-config', '-c', 'config/demo.yaml'];
    case 'demo':
      return ['demo', '--events', '1000', '--report', join(scratch, 'report.html'), '--metrics-port', '0'];
  }
}

function launcher(mode: Mode): { file: string; args: string[] } {
  switch (mode) {
    case 'dist':
      return { file: process.execPath, args: ['dist/cli/main.js'] };
    case 'tsx':
      return { file: process.execPath, args: ['--import', 'tsx', 'src/cli/main.ts'] };
    case 'npx':
      return { file: 'npx', args: ['tsx', 'src/cli/main.ts'] };
  }
}

/** The environment without FLOWSENTINEL_* variables, which would change the config under test. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOWSENTINEL_')));
}

function startOnce(tree: string, mode: Mode, name: CommandName, scratch: string): Sample {
  const { file, args } = launcher(mode);
  const cpu0 = childrenCpuS();
  const t0 = performance.now();
  const r = spawnSync(file, [...args, ...commandArgs(name, scratch)], {
    cwd: tree,
    env: cleanEnv(),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    throw new Error(`${mode} ${name} in ${tree} exited ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
  }
  return { cpuS: childrenCpuS() - cpu0, wallS };
}

function listArg<T extends string>(raw: string | undefined, all: readonly T[], key: string): T[] {
  if (raw === undefined) return [...all];
  const list = raw.split(',');
  for (const item of list) {
    if (!(all as readonly string[]).includes(item)) {
      throw new InvalidOptionError(
        `--${key}: unknown "${item}"; use a comma-separated subset of ${all.join(',')}`,
      );
    }
  }
  return list as T[];
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');

const fmt = (s: number): string => s.toFixed(2);
const ratio = (before: number, now: number): string => `${(before / now).toFixed(1)}×`;

function main(): void {
  const args = parseBenchArgs(process.argv.slice(2), ['runs', 'before', 'modes', 'commands']);
  const runs = numberArg(args, 'runs', args.quick ? 3 : 5);
  const before = args.values.get('before');
  const trees = before === undefined ? [ROOT] : [resolve(before), ROOT];
  const modes = listArg(args.values.get('modes'), MODES, 'modes');
  const commands = listArg(args.values.get('commands'), COMMANDS, 'commands');
  const scratch = mkdtempSync(join(tmpdir(), 'flowsentinel-cli-start-'));
  const samples = new Map<string, Sample[]>();
  const started = new Date();
  const loadAtStart = load();
  try {
    for (let run = 0; run < runs; run++) {
      for (const name of commands) {
        for (const mode of modes) {
          for (const tree of trees) {
            const key = `${name}|${mode}|${tree}`;
            samples.set(key, [...(samples.get(key) ?? []), startOnce(tree, mode, name, scratch)]);
          }
        }
      }
      process.stderr.write(`run ${run + 1}/${runs} done, load ${load()}\n`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const med = (name: string, mode: string, tree: string, pick: (s: Sample) => number): number =>
    median((samples.get(`${name}|${mode}|${tree}`) ?? []).map(pick));
  const rows = commands.flatMap((name) =>
    modes.map((mode) => {
      const cpu = trees.map((t) => med(name, mode, t, (s) => s.cpuS));
      const wall = trees.map((t) => med(name, mode, t, (s) => s.wallS));
      if (trees.length === 1) return [name, mode, fmt(cpu[0]!), fmt(wall[0]!)];
      return [
        name,
        mode,
        fmt(cpu[0]!),
        fmt(cpu[1]!),
        ratio(cpu[0]!, cpu[1]!),
        fmt(wall[0]!),
        fmt(wall[1]!),
        ratio(wall[0]!, wall[1]!),
      ];
    }),
  );
  const header =
    trees.length === 1
      ? ['command', 'started by', 'CPU s', 'wall s']
      : [
          'command',
          'started by',
          'CPU s before',
          'CPU s now',
          'ratio',
          'wall s before',
          'wall s now',
          'ratio',
        ];
  process.stdout.write(
    `${started.toISOString()} → ${new Date().toISOString()}, ${runs} runs each (medians), ` +
      `load average (1 / 5 / 15 min) ${loadAtStart} at start, ${load()} at the end\n` +
      (before === undefined ? '' : `before: ${resolve(before)}; now: ${ROOT}\n`) +
      `\n${markdownTable(header, rows)}\n`,
  );
}

main();
