/**
 * Flow throughput per tfjs backend: scoring rows/s (`flow.score` + one `data()` readback per batch) and
 * training rows/s (`Trainer.step`), over dims × models × batch sizes, with the autodiff engine and with
 * the fused one (`Trainer.scoreRows` and `step` with `engine: 'fused'`: folded weights and a tape-free step
 * for RealNVP; host optimizer and autodiff gradients for the others). Prints one markdown table per
 * backend. Not a test: no assertions, numbers depend on the machine and its load.
 *
 * Backends are measured interleaved, cell by cell, so load changes on a shared machine hit them alike; with
 * more than one backend a comparison table (rows/s side by side, fastest per cell) follows.
 *
 *   npm run bench:flow -- [--quick] [--backend=wasm,cpu,tensorflow] [--budget-ms=N] [--repeats=N]
 *                         [--max-call-ms=N] [--clock=wall|cpu]
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createRng } from '../src/core/rng.js';
import { BackendError, InvalidOptionError } from '../src/errors.js';
import { type BackendInfo, type ConcreteBackendName, initBackend } from '../src/flow/backend.js';
import { maf, realNVP, splineFlow } from '../src/flow/builders.js';
import type { NormalizingFlow } from '../src/flow/normalizing-flow.js';
import * as tf from '../src/flow/tf.js';
import { Trainer } from '../src/flow/trainer.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { fusedCell } from './lib/flow-fused.js';
import { type CellMode, SlowCellPredictor } from './lib/slow-cells.js';
import { formatMs, formatRate, markdownTable } from './lib/stats.js';
import { type BenchClock, measureRate, type RateResult, type TimingPlan } from './lib/timing.js';

const BACKENDS: readonly ConcreteBackendName[] = ['wasm', 'tensorflow', 'cpu'];
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
  /** The same with `engine: 'fused'`. */
  readonly fusedScore: RateResult | undefined;
  readonly fusedTrain: RateResult | undefined;
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
    const fused =
      train === undefined || train.kind === 'too-slow' ? undefined : await fusedCell(model, dim, x, plan);
    return {
      dim,
      model: model.name,
      batch,
      score,
      train,
      fusedScore: fused?.score,
      fusedTrain: fused?.train,
    };
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
  const header = [
    'dim',
    'model',
    'batch',
    'score rows/s',
    'score ms/batch',
    'train rows/s',
    'train ms/step',
    'fused score rows/s',
    'fused train rows/s',
  ];
  const rows = results.map((r) => [
    String(r.dim),
    r.model,
    String(r.batch),
    ...rateCells(r.score, r.batch, plan),
    ...rateCells(r.train, r.batch, plan),
    rateCells(r.fusedScore, r.batch, plan)[0],
    rateCells(r.fusedTrain, r.batch, plan)[0],
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
  const fused = `fused score ${rate(r.fusedScore)}, fused train ${rate(r.fusedTrain)}`;
  return `  ${backend} d=${r.dim} ${r.model} b=${r.batch}: score ${rate(r.score)}, train ${rate(r.train)}, ${fused}${leak}\n`;
}

/** Activates `name` once for the run; prints a skip line when the backend is unavailable. */
async function available(name: ConcreteBackendName): Promise<BackendInfo | undefined> {
  try {
    return await initBackend(name);
  } catch (err) {
    if (!(err instanceof BackendError)) throw err;
    process.stdout.write(`\n### Backend: ${name}\n\nskipped: ${err.message}\n`);
    return undefined;
  }
}

function heading(info: BackendInfo): string {
  const extra =
    info.simd !== undefined
      ? ` (SIMD ${info.simd ? 'on' : 'off'})`
      : info.tensorflowVersion !== undefined
        ? ` (tfjs-node ${info.version}, TensorFlow ${info.tensorflowVersion})`
        : '';
  return `\n### Backend: ${info.name}${extra}\n\n`;
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

/**
 * Measures every cell on every available backend, interleaved (cell by cell, backend by backend) so that
 * load changes on a shared machine hit all backends alike; returns the results per backend.
 */
async function benchAll(
  infos: readonly BackendInfo[],
  plan: TimingPlan,
): Promise<Map<ConcreteBackendName, CellResult[]>> {
  const results = new Map<ConcreteBackendName, CellResult[]>(infos.map((i) => [i.name, []]));
  const predictors = new Map(infos.map((i) => [i.name, new SlowCellPredictor(plan.maxCallMs)]));
  for (const info of infos) {
    await initBackend(info.name);
    await warmUp(plan.clock);
  }
  for (const dim of DIMS) {
    for (const model of MODELS) {
      for (const batch of BATCHES) {
        for (const info of infos) {
          if (infos.length > 1) await initBackend(info.name);
          const before = tf.memory().numTensors;
          const r = await runCell(model, dim, batch, plan, predictors.get(info.name));
          const leaked = tf.memory().numTensors - before;
          if (leaked !== 0) {
            process.stdout.write(
              `\nwarning: ${info.name} d=${dim} ${model.name} b=${batch} left ${leaked} tensors\n`,
            );
          }
          results.get(info.name)?.push(r);
          process.stderr.write(progressLine(info.name, r, leaked));
        }
      }
    }
  }
  return results;
}

function rateOf(r: RateResult | undefined): number {
  return r?.kind === 'measured' ? r.rowsPerSecond : 0;
}

/** The measured modes of a cell, in column order. */
const MODES = ['score', 'train', 'fusedScore', 'fusedTrain'] as const;
type Mode = (typeof MODES)[number];

/** One row per cell, one rate column per backend and mode (autodiff, then fused), and the fastest backend per mode. */
function comparisonTable(
  results: ReadonlyMap<ConcreteBackendName, readonly CellResult[]>,
  plan: TimingPlan,
): string {
  const names = [...results.keys()];
  const header = [
    'dim',
    'model',
    'batch',
    ...names.map((n) => `score ${n}`),
    ...names.map((n) => `train ${n}`),
    ...names.map((n) => `fused score ${n}`),
    ...names.map((n) => `fused train ${n}`),
    'fastest score',
    'fastest train',
    'fastest fused score',
    'fastest fused train',
  ];
  const first = results.get(names[0] ?? 'wasm') ?? [];
  const rows = first.map((cell, i) => {
    const cells = names.map((n) => results.get(n)?.[i]);
    const fastest = (mode: Mode): string => {
      const rates = cells.map((c) => rateOf(c?.[mode]));
      const best = Math.max(...rates);
      if (best === 0) return '-';
      const second = Math.max(0, ...rates.filter((r) => r !== best));
      const ratio = second > 0 ? ` (${(best / second).toFixed(1)}×)` : '';
      return `${names[rates.indexOf(best)]}${ratio}`;
    };
    return [
      String(cell.dim),
      cell.model,
      String(cell.batch),
      ...MODES.flatMap((mode) => cells.map((c) => rateCells(c?.[mode], cell.batch, plan)[0])),
      ...MODES.map(fastest),
    ];
  });
  return markdownTable(header, rows);
}

function backendsToRun(requested: string | undefined): readonly ConcreteBackendName[] {
  if (requested === undefined) return BACKENDS;
  return requested.split(',').map((raw) => {
    const found = BACKENDS.find((b) => b === raw);
    if (found === undefined) {
      throw new InvalidOptionError(
        `--backend must be a comma-separated list of ${BACKENDS.join(', ')}, got "${requested}"`,
      );
    }
    return found;
  });
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
  const infos: BackendInfo[] = [];
  for (const name of backends) {
    const info = await available(name);
    if (info !== undefined) infos.push(info);
  }
  const results = await benchAll(infos, plan);
  for (const info of infos) {
    process.stdout.write(`${heading(info)}${table(results.get(info.name) ?? [], plan)}\n`);
  }
  if (infos.length > 1) {
    process.stdout.write(
      `\n### Rows/s by backend (fastest: ratio to the runner-up)\n\n${comparisonTable(results, plan)}\n`,
    );
  }
  process.stdout.write(`\ntotal wall time ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

await main();
