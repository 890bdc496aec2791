/**
 * bench:throughput's before/after table (issue 14): the whole job of the code before the issue (a commit,
 * checked out into a temporary git worktree with this checkout's node_modules linked) against this
 * checkout, in the same run. Every measurement is a fresh child process (bench/lib/job-at-root.ts) on the
 * parent's core, before and after interleaved per repeat so load changes hit both alike; medians of the
 * events per CPU-second and per wall second.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { writeGeneratedFixture } from './fixture.js';
import { allowedCpus } from './pin.js';
import { formatRate, markdownTable, median } from './stats.js';

const REPO = resolve(import.meta.dirname, '../..');

/** Issue 14's speed-up targets of the whole job over the code before it, per CPU-second. */
const RATIO_TARGETS = { scoreOnly: 2, scoreLearn: 2.5 } as const;

/** Events per second of one whole-job run. */
export interface JobRates {
  readonly wall: number;
  readonly cpu: number;
}

/** Median rates of one checkout. */
export interface ModeJobRates {
  readonly scoreOnly: JobRates;
  readonly scoreLearn: JobRates;
}

/** The before/after measurement, or why it was skipped. */
export type BeforeAfter =
  | { readonly commit: string; readonly before: ModeJobRates; readonly after: ModeJobRates }
  | { readonly commit: string; readonly skipped: string };

interface Options {
  readonly commit: string;
  readonly file: string;
  readonly warmup: string;
  readonly dir: string;
  readonly repeats: number;
  readonly backend: string;
  readonly explain: boolean;
}

function runChild(root: string, o: Options, label: string): ModeJobRates {
  const args = ['--import', 'tsx', join(REPO, 'bench/lib/job-at-root.ts'), `--root=${root}`];
  args.push(`--file=${o.file}`, `--warmup=${o.warmup}`, `--out=${o.dir}`, `--backend=${o.backend}`);
  if (!o.explain) args.push('--explain=off');
  const r = spawnSync(process.execPath, args, {
    cwd: REPO,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`${label} run failed (exit ${r.status})`);
  const x = JSON.parse(line) as ModeJobRates;
  process.stderr.write(
    `  ${label}: score only ${formatRate(x.scoreOnly.cpu)}, score + learn ${formatRate(x.scoreLearn.cpu)} per CPU-s\n`,
  );
  return x;
}

const medianRates = (runs: readonly ModeJobRates[]): ModeJobRates => {
  const m = (pick: (x: ModeJobRates) => number): number => median(runs.map(pick));
  return {
    scoreOnly: { wall: m((x) => x.scoreOnly.wall), cpu: m((x) => x.scoreOnly.cpu) },
    scoreLearn: { wall: m((x) => x.scoreLearn.wall), cpu: m((x) => x.scoreLearn.cpu) },
  };
};

/** Measures `o.commit` against this checkout; skipped (with the reason) when the commit cannot be checked out. */
export function measureBeforeAfter(o: Options): BeforeAfter {
  const root = join(o.dir, `before-${o.commit}`);
  try {
    execFileSync('git', ['-C', REPO, 'worktree', 'add', '--detach', root, o.commit], { stdio: 'ignore' });
  } catch {
    return { commit: o.commit, skipped: `git could not check out ${o.commit} into a worktree` };
  }
  try {
    if (!existsSync(join(root, 'node_modules')))
      symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
    const before: ModeJobRates[] = [];
    const after: ModeJobRates[] = [];
    for (let r = 0; r < o.repeats; r++) {
      before.push(runChild(root, o, `before (${o.commit}) #${r + 1}`));
      after.push(runChild(REPO, o, `after #${r + 1}`));
    }
    return { commit: o.commit, before: medianRates(before), after: medianRates(after) };
  } finally {
    execFileSync('git', ['-C', REPO, 'worktree', 'remove', '--force', root], { stdio: 'ignore' });
  }
}

/** Markdown: rates of both checkouts, the ratio, and the absolute targets per CPU-second. */
export function beforeAfterTable(b: BeforeAfter, targets: { scoreOnly: number; scoreLearn: number }): string {
  if ('skipped' in b) return `Before/after skipped: ${b.skipped}.`;
  const row = (name: string, x: ModeJobRates): string[] => [
    name,
    formatRate(x.scoreOnly.cpu),
    formatRate(x.scoreLearn.cpu),
    formatRate(x.scoreOnly.wall),
    formatRate(x.scoreLearn.wall),
  ];
  const ratio = (key: keyof ModeJobRates, clock: keyof JobRates): string =>
    `${(b.after[key][clock] / b.before[key][clock]).toFixed(2)}×`;
  const verdict = (key: keyof ModeJobRates): string => {
    const got = b.after[key].cpu;
    const want = targets[key];
    return got >= want ? 'met' : `missed: ${(want / got).toFixed(1)}× short`;
  };
  const ratioVerdict = (key: keyof ModeJobRates): string => {
    const got = b.after[key].cpu / b.before[key].cpu;
    return `${got >= RATIO_TARGETS[key] ? 'met' : 'missed'} (≥ ${RATIO_TARGETS[key]}×)`;
  };
  return markdownTable(
    [
      'whole job (replay file), d = 8',
      'score only /CPU-s',
      'score + learn /CPU-s',
      'score only /s',
      'score + learn /s',
    ],
    [
      row(`before (${b.commit})`, b.before),
      row('after (this checkout)', b.after),
      [
        'after / before',
        ratio('scoreOnly', 'cpu'),
        ratio('scoreLearn', 'cpu'),
        ratio('scoreOnly', 'wall'),
        ratio('scoreLearn', 'wall'),
      ],
      ['after / before vs target', ratioVerdict('scoreOnly'), ratioVerdict('scoreLearn'), '', ''],
      ['target per CPU-s', formatRate(targets.scoreOnly), formatRate(targets.scoreLearn), '', ''],
      ['after vs target', verdict('scoreOnly'), verdict('scoreLearn'), '', ''],
    ],
  );
}

/** The whole job before and after issue 14 (printed at once); undefined when `--before=none` or another `--only`. */
export async function beforeAfterRates(
  commit: string,
  o: {
    only: string | undefined;
    events: number;
    repeats: number;
    backend: string;
    dir: string;
    explain: boolean;
    fields: string[];
    targets: { scoreOnly: number; scoreLearn: number };
  },
): Promise<BeforeAfter | undefined> {
  if (commit === 'none' || (o.only !== undefined && o.only !== 'before')) return undefined;
  const file = join(o.dir, 'events.jsonl');
  const warmup = join(o.dir, 'warmup.jsonl');
  await writeGeneratedFixture(warmup, { seed: 99, count: 10_000, fields: o.fields, anomalyRate: 0.01 });
  const start = loadavg();
  const b = measureBeforeAfter({
    commit,
    file,
    warmup,
    dir: o.dir,
    repeats: o.repeats,
    backend: o.backend,
    explain: o.explain,
  });
  const load = (l: number[]): string => l.map((x) => x.toFixed(1)).join(' / ');
  const meta =
    `${o.events} generator events (seed 2024), d = 8, config defaults, batches of 256, ${o.backend}, explanations ` +
    `${o.explain ? 'on' : 'off'}, CPUs allowed: ${allowedCpus() ?? 'unknown'}, median of ${o.repeats} child process(es) each, ` +
    `interleaved; load average (1 / 5 / 15 min) ${load(start)} at the start, ${load(loadavg())} at the end.`;
  process.stdout.write(
    `# Whole job before and after issue 14\n\n${meta}\n\n${beforeAfterTable(b, { ...o.targets })}\n\n`,
  );
  return b;
}
