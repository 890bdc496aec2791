/**
 * Ablation of issue 14's plumbing changes (item 5), one row per change, all in one run so ratios are
 * comparable on a shared machine. Each variant is a commit, checked out into a temporary git worktree
 * (node_modules linked to this checkout's); every run is a child process on one core
 * (`taskset -c <cpu>`) doing the whole replay job (bench/lib/plumbing-run.ts: replay file at speed max,
 * anomalies, scores, drift and dead-letter files, explanations on), score only and score + learn, d = 8.
 * Variants are interleaved per repeat; the table gives the median events per CPU-second of the job and
 * the ratio to the row before. Prints tables; asserts nothing.
 *
 *   npx tsx bench/plumbing-ablation.bench.ts --variants=<label>=<commit>,… [--events=60000] [--repeats=3]
 *     [--cpu=1] [--backend=wasm]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeGeneratedFixture } from './lib/fixture.js';
import { markdownTable, median } from './lib/stats.js';

const REPO = resolve(import.meta.dirname, '..');
const FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.slice(name.length + 3);
}

interface Variant {
  readonly label: string;
  readonly root: string;
}

/** A worktree of `commit` (or this checkout for `.`), with node_modules linked. */
function checkout(label: string, commit: string, dir: string): Variant {
  if (commit === '.') return { label, root: REPO };
  const root = join(dir, commit);
  if (!existsSync(root)) {
    execFileSync('git', ['-C', REPO, 'worktree', 'add', '--detach', root, commit], { stdio: 'ignore' });
    symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  }
  return { label, root };
}

/** Events per CPU-second of one whole-job run of `variant`. */
function runOnce(variant: Variant, file: string, out: string, steps: number): number {
  const args = [
    '-c',
    arg('cpu', '1'),
    process.execPath,
    '--import',
    'tsx',
    join(REPO, 'bench/lib/plumbing-run.ts'),
    `--root=${variant.root}`,
    `--file=${file}`,
    `--out=${out}`,
    `--steps=${steps}`,
    `--backend=${arg('backend', 'wasm')}`,
  ];
  const r = spawnSync('taskset', args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  const { events, cpuMs } = JSON.parse(line) as { events: number; cpuMs: number };
  return (events * 1000) / cpuMs;
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'plumbing-ablation-'));
  const events = Number(arg('events', '60000'));
  const repeats = Number(arg('repeats', '3'));
  const specs = arg('variants', 'this=.').split(',');
  const variants = specs.map((s) => {
    const [label = s, commit = '.'] = s.split('=');
    return checkout(label, commit, dir);
  });
  const file = join(dir, 'd8.jsonl');
  await writeGeneratedFixture(file, {
    seed: 7,
    count: events,
    fields: FIELDS,
    anomalyRate: 0.01,
    drift: null,
  });
  const startLoad = load();
  const rates = new Map<string, number[]>();
  try {
    for (let r = 0; r < repeats; r++) {
      for (const v of variants) {
        for (const steps of [0, 1]) {
          const rate = runOnce(v, file, join(dir, 'out'), steps);
          const key = `${v.label}:${steps}`;
          rates.set(key, [...(rates.get(key) ?? []), rate]);
          process.stderr.write(`${key} ${Math.round(rate)} ev/CPU-s\n`);
        }
      }
    }
  } finally {
    for (const v of variants) {
      if (v.root !== REPO) execFileSync('git', ['-C', REPO, 'worktree', 'remove', '--force', v.root]);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (label: string, steps: number): number => median(rates.get(`${label}:${steps}`) ?? []);
  const rows = variants.map((v, i) => {
    const prev = variants[i - 1];
    const cells = [0, 1].flatMap((steps) => {
      const rate = med(v.label, steps);
      const ratio = prev === undefined ? 1 : rate / med(prev.label, steps);
      return [Math.round(rate).toLocaleString('en-US'), `${ratio.toFixed(2)}×`];
    });
    return [v.label, ...cells];
  });
  const header = [
    'change (cumulative)',
    'score only /CPU-s',
    'vs row before',
    'score + learn /CPU-s',
    'vs row before',
  ];
  console.log(
    `\nwhole job, replay max speed, ${events} events, d = 8, median of ${repeats}, wasm, taskset -c ${arg('cpu', '1')}`,
  );
  console.log(`load average (1 / 5 / 15 min): ${startLoad} at the start, ${load()} at the end\n`);
  console.log(markdownTable(header, rows));
}

await main();
