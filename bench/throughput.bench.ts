/**
 * Throughput vs peers at d = 8 on one core: flowsentinel scoring only and score + learn (the whole job over
 * a replay file, and the detector alone on decoded rows), where a 256-event batch's time goes, River
 * HalfSpaceTrees on the same rows, and the same RealNVP in PyTorch (bench/python/realnvp_torch.py, one
 * thread, same batch and steps). Re-runs itself under `taskset -c 0` when taskset exists; the Python
 * peers are pinned to the same core. Each figure is the median of `--repeats` runs.
 *
 * Also prints the engines side by side (issue 14): `model.engine` fused vs autodiff, for the detector
 * alone and the whole job, at the default 6×64 and at 4×64, all in the same run (compare ratios, not
 * absolute rates, on a shared machine). `--only=engines` prints just that table (no Python peers).
 *
 * And the whole job before and after issue 14 (`--before=<commit>`, default 181663d, checked out into a
 * temporary git worktree; `--before=none` skips it), each run a fresh child process, interleaved:
 * bench/lib/throughput-before.ts. `--only=before` prints just that table.
 *
 *   npm run bench:throughput -- [--events=50000] [--repeats=3] [--backend=auto|wasm|cpu] [--explain=off]
 *                               [--only=engines|before] [--before=181663d|none]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppConfig, loadConfig } from '../src/config/index.js';
import { initBackend } from '../src/flow/backend.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { type FixtureRows, generatedRows, writeGeneratedFixture, writeRowsCsv } from './lib/fixture.js';
import { runJobOnce } from './lib/job-run.js';
import { allowedCpus, reexecOnOneCore } from './lib/pin.js';
import { ensureVenv, runPython } from './lib/python.js';
import { writeResults } from './lib/results.js';
import { formatRate, markdownTable, median } from './lib/stats.js';
import { beforeAfterRates } from './lib/throughput-before.js';
import { type Breakdown, breakdownTable, measureBreakdown } from './lib/throughput-breakdown.js';
import {
  detectorRun,
  type EngineRow,
  engineTable,
  featureBatches,
  type ModelChoice,
  type ModeRates,
  type Rates,
  type Run,
} from './lib/throughput-engines.js';

const FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
const TARGET_SCORE = 100_000;
const TARGET_LEARN = 20_000;

/** Micro-batch size of the "large batches" variant (config defaults otherwise). */
const LARGE_BATCH = 2048;

/** `--explain=off` disables explanations (on by default, as in the config defaults). */
let explain = true;

function benchConfig(
  backend: string,
  stepsPerBatch: number,
  maxSize = 256,
  model: ModelChoice = { engine: 'fused', layers: 6 },
): AppConfig {
  return loadConfig({
    env: {},
    overrides: {
      backend: backend as AppConfig['backend'],
      model: { engine: model.engine, layers: model.layers },
      explain: { enabled: explain },
      features: { fields: FIELDS },
      training: { stepsPerBatch },
      batching: { maxSize, highWaterMark: Math.max(512, 2 * maxSize) },
      metrics: { enabled: false },
    },
  });
}

/** Median wall and CPU rates of `repeats` runs. */
async function medianOf(repeats: number, label: string, run: () => Promise<Run>): Promise<Run> {
  const runs: Run[] = [];
  for (let r = 0; r < repeats; r++) {
    const x = await run();
    runs.push(x);
    process.stderr.write(
      `  ${label} #${r + 1}: ${formatRate(x.wall)} events/s, ${formatRate(x.cpu)} per CPU-s\n`,
    );
  }
  return { wall: median(runs.map((x) => x.wall)), cpu: median(runs.map((x) => x.cpu)) };
}

async function modes(repeats: number, label: string, run: (steps: number) => Promise<Run>): Promise<Rates> {
  const scoreOnly = await medianOf(repeats, `${label} score only`, () => run(0));
  const scoreLearn = await medianOf(repeats, `${label} score + learn`, () => run(1));
  return {
    wall: { scoreOnly: scoreOnly.wall, scoreLearn: scoreLearn.wall },
    cpu: { scoreOnly: scoreOnly.cpu, scoreLearn: scoreLearn.cpu },
  };
}

async function flowsentinelRates(
  backend: string,
  rows: FixtureRows,
  file: string,
  dir: string,
  repeats: number,
): Promise<{ pipeline: Rates; detector: Rates; largeBatches: Rates }> {
  const batches = featureBatches(rows, 256);
  await runJobOnce(benchConfig(backend, 1), file, dir); // untimed warm-up: JIT, kernels, file cache
  const pipeline = await modes(repeats, 'flowsentinel job', async (steps) => {
    const r = await runJobOnce(benchConfig(backend, steps), file, dir);
    return { wall: r.eventsPerSecond, cpu: r.eventsPerCpuSecond };
  });
  const detector = await modes(repeats, 'flowsentinel detector', (steps) =>
    detectorRun(benchConfig(backend, steps), batches),
  );
  const largeBatches = await modes(repeats, `flowsentinel job, batches of ${LARGE_BATCH}`, async (steps) => {
    const r = await runJobOnce(benchConfig(backend, steps, LARGE_BATCH), file, dir);
    return { wall: r.eventsPerSecond, cpu: r.eventsPerCpuSecond };
  });
  return { pipeline, detector, largeBatches };
}

/** Fused vs autodiff, 6×64 and 4×64, detector alone and whole job, in one run (CPU time). */
async function engineRates(
  backend: string,
  rows: FixtureRows,
  file: string,
  dir: string,
  repeats: number,
): Promise<EngineRow[]> {
  const batches = featureBatches(rows, 256);
  const out: EngineRow[] = [];
  for (const layers of [6, 4]) {
    for (const engine of ['fused', 'autodiff'] as const) {
      const model = { engine, layers };
      const label = `${engine} ${layers}×64`;
      const job = await modes(repeats, `${label} job`, async (steps) => {
        const r = await runJobOnce(benchConfig(backend, steps, 256, model), file, dir);
        return { wall: r.eventsPerSecond, cpu: r.eventsPerCpuSecond };
      });
      const detector = await modes(repeats, `${label} detector`, (steps) =>
        detectorRun(benchConfig(backend, steps, 256, model), batches),
      );
      out.push({ model, job, detector });
    }
  }
  return out;
}

function vsTarget(measured: number, target: number): string {
  return measured >= target ? 'met' : `missed: ${(target / measured).toFixed(1)}× short`;
}

type Systems = Record<'job' | 'detector' | 'largeBatches' | 'hst' | 'torch', Rates>;

const NAMES: Record<keyof Systems, string> = {
  job: 'flowsentinel, whole job (replay file)',
  detector: 'flowsentinel, detector only (decoded rows)',
  largeBatches: `flowsentinel, whole job, micro-batches of ${LARGE_BATCH}`,
  hst: 'River HalfSpaceTrees',
  torch: 'PyTorch RealNVP (same architecture)',
};

function report(s: Systems, breakdown: Breakdown, meta: string): string {
  const r = formatRate;
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  const rates = markdownTable(
    ['system', 'score only ev/s', 'per CPU-s', 'score + learn ev/s', 'per CPU-s'],
    (Object.keys(NAMES) as (keyof Systems)[]).map((k) => [
      NAMES[k],
      r(s[k].wall.scoreOnly),
      r(s[k].cpu.scoreOnly),
      r(s[k].wall.scoreLearn),
      r(s[k].cpu.scoreLearn),
    ]),
  );
  const ratioRow = (name: string, a: Rates, b: Rates): string[] => [
    name,
    ratio(a.cpu.scoreOnly, b.cpu.scoreOnly),
    ratio(a.cpu.scoreLearn, b.cpu.scoreLearn),
    ratio(a.wall.scoreOnly, b.wall.scoreOnly),
    ratio(a.wall.scoreLearn, b.wall.scoreLearn),
  ];
  const ratios = markdownTable(
    ['ratio', 'score only (CPU)', 'score + learn (CPU)', 'score only (wall)', 'score + learn (wall)'],
    [
      ratioRow('flowsentinel job / PyTorch', s.job, s.torch),
      ratioRow('flowsentinel detector / PyTorch', s.detector, s.torch),
      ratioRow('flowsentinel job / River HST', s.job, s.hst),
    ],
  );
  const targetRow = (name: string, target: number, key: keyof ModeRates): string[] => [
    name,
    r(target),
    r(s.job.cpu[key]),
    vsTarget(s.job.cpu[key], target),
    r(s.detector.cpu[key]),
    vsTarget(s.detector.cpu[key], target),
    r(s.largeBatches.cpu[key]),
    vsTarget(s.largeBatches.cpu[key], target),
  ];
  const targets = markdownTable(
    [
      'target',
      'required ev/s',
      'whole job (CPU)',
      'verdict',
      'detector only (CPU)',
      'verdict',
      `job, batches of ${LARGE_BATCH} (CPU)`,
      'verdict',
    ],
    [
      targetRow('scoring only', TARGET_SCORE, 'scoreOnly'),
      targetRow('score + learn', TARGET_LEARN, 'scoreLearn'),
    ],
  );
  return (
    `# Throughput vs peers (d = 8)\n\n${meta}\n\n${rates}\n\n### Ratios\n\n${ratios}\n\n` +
    `### Targets (one core, d = 8; events per CPU-second, which equal wall rates on an idle core)\n\n` +
    `${targets}\n\n### Where a 256-event batch's time goes (CPU time)\n\n` +
    `${breakdownTable(breakdown, s.job.cpu)}\n`
  );
}

/** Rates from a peer's JSON (keys scoreOnly, scoreLearn, scoreOnlyCpu, scoreLearnCpu). */
function peerRates(raw: Record<string, unknown>): Rates {
  const n = (k: string): number => Number(raw[k]);
  return {
    wall: { scoreOnly: n('scoreOnly'), scoreLearn: n('scoreLearn') },
    cpu: { scoreOnly: n('scoreOnlyCpu'), scoreLearn: n('scoreLearnCpu') },
  };
}

async function main(): Promise<void> {
  if (reexecOnOneCore(0)) return;
  const args = parseBenchArgs(process.argv.slice(2), [
    'events',
    'repeats',
    'backend',
    'explain',
    'only',
    'before',
  ]);
  explain = args.values.get('explain') !== 'off';
  const only = args.values.get('only');
  const enginesOnly = only === 'engines';
  const beforeCommit = args.values.get('before') ?? '181663d';
  const events = Math.round(numberArg(args, 'events', args.quick ? 10_000 : 50_000));
  const repeats = Math.round(numberArg(args, 'repeats', args.quick ? 1 : 3));
  const backend = (await initBackend((args.backend ?? 'auto') as AppConfig['backend'])).name;
  const dir = await mkdtemp(join(tmpdir(), 'flowsentinel-throughput-'));
  try {
    const options = { seed: 2024, count: events, fields: FIELDS, anomalyRate: 0.01 };
    const file = join(dir, 'events.jsonl');
    const csv = join(dir, 'events.csv');
    await writeGeneratedFixture(file, options);
    const rows = generatedRows(options);
    await writeRowsCsv(csv, rows);
    const beforeAfter = await beforeAfterRates(beforeCommit, {
      only,
      events,
      repeats,
      backend,
      dir,
      explain,
      fields: FIELDS,
      targets: { scoreOnly: TARGET_SCORE, scoreLearn: TARGET_LEARN },
    });
    if (only === 'before') return;
    await runJobOnce(benchConfig(backend, 1), file, dir); // untimed warm-up: JIT, kernels, file cache
    const engines = await engineRates(backend, rows, file, dir, repeats);
    const engineMeta =
      `${events} generator events, d = 8, ${backend}, batches of 256, explanations ${explain ? 'on' : 'off'}, ` +
      `CPUs allowed: ${allowedCpus() ?? 'unknown'}, median of ${repeats} run(s), load average ` +
      `${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')} at the end.`;
    process.stdout.write(
      `# Engines: fused vs autodiff (events per CPU-second)\n\n${engineMeta}\n\n${engineTable(engines)}\n\n`,
    );
    if (enginesOnly) return;
    const python = ensureVenv();
    const fs = await flowsentinelRates(backend, rows, file, dir, repeats);
    const breakdown = await measureBreakdown(benchConfig(backend, 1), rows, repeats);
    const rep = String(repeats);
    await runPython(
      python,
      'river_peers.py',
      ['throughput', '--csv', csv, '--repeats', rep, '--out', join(dir, 'hst.json')],
      { pinCpu: 0 },
    );
    const config = benchConfig(backend, 1);
    await runPython(
      python,
      'realnvp_torch.py',
      [
        '--csv',
        csv,
        '--layers',
        String(config.model.layers),
        '--hidden',
        String(config.model.hidden),
        '--batch',
        String(config.training.batchSize),
        '--steps',
        '1',
        '--repeats',
        rep,
        '--out',
        join(dir, 'torch.json'),
      ],
      { pinCpu: 0 },
    );
    const hstRaw = JSON.parse(await readFile(join(dir, 'hst.json'), 'utf8')) as Record<string, unknown>;
    const torchRaw = JSON.parse(await readFile(join(dir, 'torch.json'), 'utf8')) as Record<string, unknown>;
    const systems: Systems = {
      job: fs.pipeline,
      detector: fs.detector,
      largeBatches: fs.largeBatches,
      hst: peerRates(hstRaw),
      torch: peerRates(torchRaw),
    };
    const meta =
      `${events} generator events (seed 2024, 1 % anomalies), d = 8; flowsentinel ${config.model.type} ` +
      `${config.model.layers}×${config.model.hidden} on ${backend}, batches of ${config.batching.maxSize} events, ` +
      `training batch ${config.training.batchSize}, 1 step per batch when learning, explanations ` +
      `${explain ? 'on' : 'off'}; PyTorch ${String(torchRaw.torch)} ` +
      `(1 thread), River ${String(hstRaw.river)}; CPUs allowed: ${allowedCpus() ?? 'unknown'}; median of ${repeats} run(s).`;
    process.stdout.write(report(systems, breakdown, meta));
    const path = await writeResults(explain ? 'throughput' : 'throughput-explain-off', {
      events,
      explain,
      repeats,
      cpusAllowed: allowedCpus(),
      targets: { scoreOnly: TARGET_SCORE, scoreLearn: TARGET_LEARN },
      flowsentinel: fs,
      engines,
      beforeAfter,
      breakdown,
      riverHst: hstRaw,
      torch: torchRaw,
    });
    process.stderr.write(`wrote ${path}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
