/**
 * Flow throughput per tfjs backend: scoring rows/s (`flow.score` + one `data()` readback per batch) and
 * training rows/s (`Trainer.step`), over dims × models × batch sizes. Prints one markdown table per
 * backend. Not a test: no assertions, numbers depend on the machine and its load.
 *
 *   npm run bench:flow -- [--quick] [--backend=wasm|cpu|tensorflow] [--budget-ms=N] [--repeats=N]
 *                         [--max-call-ms=N] [--clock=wall|cpu]
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { BackendError, InvalidOptionError } from '../src/errors.js';
import { type BackendName, initBackend } from '../src/flow/backend.js';
import { maf, realNVP, splineFlow } from '../src/flow/builders.js';
import type { NormalizingFlow } from '../src/flow/normalizing-flow.js';
import { createRng } from '../src/flow/rng.js';
import * as tf from '../src/flow/tf.js';
import { Trainer } from '../src/flow/trainer.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { type CellMode, SlowCellPredictor } from './lib/slow-cells.js';
import { formatMs, formatRate, markdownTable } from './lib/stats.js';
import { type BenchClock, measureRate, type RateResult, type TimingPlan } from './lib/timing.js';

const BACKENDS: readonly Exclude<BackendName, 'auto'>[] = ['wasm', 'cpu', 'tensorflow'];
const DIMS = [4, 16, 64] as const;
const BATCHES = [256, 2048] as const;

/** The benchmarked architectures; `hidden: 64` means two hidden layers of 64 units. */
const MODELS: readonly { readonly name: string; readonly build: (dim: number) => NormalizingFlow }[] = [
  { name: 'realnvp-4x64', build: (dim) => realNVP({ dim, layers: 4, hidden: 64, seed: 1 }) },
  { name: 'spline-4x64-8bins', build: (dim) => splineFlow({ dim, layers: 4, hidden: 64, bins: 8, seed: 1 }) },
  { name: 'maf-4x64', build: (dim) => maf({ dim, layers: 4, hidden: 64, seed: 1 }) },
];

interface CellResult {
  readonly dim: number;
  readonly model: string;
  readonly batch: number;
  readonly score: RateResult;
  /** Undefined when scoring was already too slow (training is always slower). */
  readonly train: RateResult | undefined;
}

/** A seeded `[rows, dim]` standard-normal batch. */
function normalBatch(rows: number, dim: number, seed: number): tf.Tensor2D {
  const rng = createRng(seed);
  const values = new Float32Array(rows * dim);
  for (let i = 0; i < values.length; i++) values[i] = rng.normal();
  return tf.tensor2d(values, [rows, dim]);
}

async function scoreOnce(flow: NormalizingFlow, x: tf.Tensor2D): Promise<void> {
  const lp = tf.tidy(() => flow.score(x));
  try {
    await lp.data();
  } finally {
    lp.dispose();
  }
}

const PREDICTED: RateResult = { kind: 'too-slow', coldMs: null };

async function runCell(
  model: (typeof MODELS)[number],
  dim: number,
  batch: number,
  plan: TimingPlan,
  predictor?: SlowCellPredictor,
): Promise<CellResult> {
  const skip = (mode: CellMode): boolean => predictor?.predictTooSlow(model.name, dim, batch, mode) ?? false;
  const flow = model.build(dim);
  const trainer = new Trainer(flow, { learningRate: 1e-3 });
  const x = normalBatch(batch, dim, dim * 7919 + batch);
  try {
    flow.initialize(x);
    const score = skip('score') ? PREDICTED : await measureRate(() => scoreOnce(flow, x), batch, plan);
    const step = async (): Promise<void> => {
      await trainer.step(x);
    };
    const train =
      score.kind === 'too-slow'
        ? undefined
        : skip('train')
          ? PREDICTED
          : await measureRate(step, batch, plan);
    predictor?.record(model.name, dim, batch, 'score', score);
    predictor?.record(model.name, dim, batch, 'train', train);
    return { dim, model: model.name, batch, score, train };
  } finally {
    x.dispose();
    trainer.dispose();
    flow.dispose();
  }
}

/** Rate and time-per-call cells; `~` marks a single timed repeat, `<`/`>` a cell skipped as too slow. */
function rateCells(r: RateResult | undefined, batch: number, plan: TimingPlan): [string, string] {
  if (r === undefined) return ['-', '-'];
  if (r.kind === 'too-slow') {
    return [`< ${formatRate((batch * 1000) / plan.maxCallMs)}`, `> ${formatMs(plan.maxCallMs)}`];
  }
  const mark = r.repeats === 1 && plan.repeats > 1 ? '~' : '';
  return [`${mark}${formatRate(r.rowsPerSecond)}`, `${mark}${formatMs(r.msPerCall)}`];
}

function table(results: readonly CellResult[], plan: TimingPlan): string {
  const header = ['dim', 'model', 'batch', 'score rows/s', 'score ms/batch', 'train rows/s', 'train ms/step'];
  const rows = results.map((r) => [
    String(r.dim),
    r.model,
    String(r.batch),
    ...rateCells(r.score, r.batch, plan),
    ...rateCells(r.train, r.batch, plan),
  ]);
  return markdownTable(header, rows);
}

function describeRate(r: RateResult | undefined): string {
  if (r === undefined) return 'skipped';
  if (r.kind === 'measured') return `${formatRate(r.rowsPerSecond)} rows/s`;
  return r.coldMs === null ? 'predicted too slow' : `too slow (${formatMs(r.coldMs)} ms cold)`;
}

function progressLine(backend: string, r: CellResult, leaked: number): string {
  const rate = describeRate;
  const leak = leaked === 0 ? '' : `, LEAKED ${leaked} tensors`;
  return `  ${backend} d=${r.dim} ${r.model} b=${r.batch}: score ${rate(r.score)}, train ${rate(r.train)}${leak}\n`;
}

/** Activates `name`; prints a heading, or a skip line when the backend is unavailable. */
async function activate(name: Exclude<BackendName, 'auto'>): Promise<boolean> {
  try {
    const info = await initBackend(name);
    const simd = info.simd === undefined ? '' : ` (SIMD ${info.simd ? 'on' : 'off'})`;
    process.stdout.write(`\n### Backend: ${info.name}${simd}\n\n`);
    return true;
  } catch (err) {
    if (!(err instanceof BackendError)) throw err;
    process.stdout.write(`\n### Backend: ${name}\n\nskipped: ${err.message}\n`);
    return false;
  }
}

/** Untimed small cells: the first cell of a process otherwise pays for JIT and kernel set-up. */
async function warmUp(clock: BenchClock | undefined): Promise<void> {
  const plan: TimingPlan = {
    warmupMs: 200,
    budgetMs: 50,
    repeats: 1,
    maxCallMs: 2000,
    clock: clock ?? 'wall',
  };
  for (const model of MODELS) await runCell(model, 4, 256, plan);
}

async function benchBackend(name: Exclude<BackendName, 'auto'>, plan: TimingPlan): Promise<void> {
  if (!(await activate(name))) return;
  await warmUp(plan.clock);
  const results: CellResult[] = [];
  const warnings: string[] = [];
  const predictor = new SlowCellPredictor(plan.maxCallMs);
  for (const dim of DIMS) {
    for (const model of MODELS) {
      for (const batch of BATCHES) {
        const before = tf.memory().numTensors;
        const r = await runCell(model, dim, batch, plan, predictor);
        const leaked = tf.memory().numTensors - before;
        if (leaked !== 0) warnings.push(`warning: d=${dim} ${model.name} b=${batch} left ${leaked} tensors`);
        results.push(r);
        process.stderr.write(progressLine(name, r, leaked));
      }
    }
  }
  process.stdout.write(`${table(results, plan)}\n`);
  for (const w of warnings) process.stdout.write(`\n${w}\n`);
}

function backendsToRun(requested: string | undefined): readonly Exclude<BackendName, 'auto'>[] {
  if (requested === undefined) return BACKENDS;
  const found = BACKENDS.find((b) => b === requested);
  if (found === undefined) {
    throw new InvalidOptionError(`--backend must be one of ${BACKENDS.join(', ')}, got "${requested}"`);
  }
  return [found];
}

function parseClock(raw: string | undefined): BenchClock {
  if (raw === undefined || raw === 'wall' || raw === 'cpu') return raw ?? 'wall';
  throw new InvalidOptionError(`--clock must be wall or cpu, got "${raw}"`);
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), [
    'backend',
    'budget-ms',
    'repeats',
    'max-call-ms',
    'clock',
  ]);
  const plan: TimingPlan = {
    clock: parseClock(args.values.get('clock')),
    warmupMs: args.quick ? 100 : 300,
    budgetMs: numberArg(args, 'budget-ms', args.quick ? 150 : 500),
    repeats: Math.round(numberArg(args, 'repeats', args.quick ? 1 : 3)),
    maxCallMs: numberArg(args, 'max-call-ms', args.quick ? 1000 : 3000),
  };
  const backends = backendsToRun(args.backend);
  const started = performance.now();
  const load = loadavg().map((l) => l.toFixed(1));
  process.stdout.write(
    `# Flow benchmark\n\nnode ${process.version}, tfjs ${tf.version_core}, load average ${load.join(' ')}; ` +
      `${plan.clock === 'cpu' ? 'process CPU time' : 'wall time'}; warm-up ≥ ${plan.warmupMs} ms, median of ${plan.repeats} repeat(s) of ≥ ${plan.budgetMs} ms; ` +
      `cells whose cold call exceeds ${plan.maxCallMs} ms (or is predicted to) are skipped\n`,
  );
  for (const name of backends) await benchBackend(name, plan);
  process.stdout.write(`\ntotal wall time ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

await main();
