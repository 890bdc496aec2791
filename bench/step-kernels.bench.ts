/**
 * Where one raw fused training step's CPU goes, kernel by kernel (issue 14, fourth round): RealNVP 6×64,
 * d = 8, batch 256, `Trainer.stepRows` on wasm (raw-step.ts: kernels called without tfjs's op layer). Every
 * wasm kernel the step calls is wrapped (its registered `kernelFunc`), and so are the raw pass's own
 * host parts (`Pass.input`/`readInto`/`read`/`free`) and the stepper's `computeHost`/`finish`; each call is
 * timed with this process's CPU clock (`process.cpuUsage`, user + system), the timer's own cost measured
 * and subtracted. Calls are grouped by kernel and operand shapes. Prints one table; asserts nothing.
 *
 *   taskset -c 0 npx tsx bench/step-kernels.bench.ts [--steps=400] [--batch=256]
 */
import { loadavg } from 'node:os';
import { createRng } from '../src/core/rng.js';
import { initBackend } from '../src/flow/backend.js';
import { realNVP } from '../src/flow/builders.js';
import { HostStepper } from '../src/flow/fused/host-step.js';
import { KERNELS, Pass } from '../src/flow/fused/raw-score.js';
import * as tf from '../src/flow/tf.js';
import { Trainer } from '../src/flow/trainer.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { markdownTable } from './lib/stats.js';

interface Slot {
  calls: number;
  us: number;
}

const slots = new Map<string, Slot>();
let recording = false;
/** Timer cost of one `cpuUsage` pair, µs, subtracted from every timed call. */
let overhead = 0;

const cpu = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

function record(key: string, us: number): void {
  if (!recording) return;
  const s = slots.get(key) ?? { calls: 0, us: 0 };
  s.calls++;
  s.us += us - overhead;
  slots.set(key, s);
}

function timed<A extends unknown[], R>(
  key: (...args: A) => string,
  fn: (...args: A) => R,
): (...args: A) => R {
  return (...args: A): R => {
    const t0 = cpu();
    const r = fn(...args);
    record(key(...args), cpu() - t0);
    return r;
  };
}

interface Shaped {
  readonly shape: readonly number[];
}

const dims = (x: unknown): string =>
  x !== null && typeof x === 'object' && 'shape' in x ? (x as Shaped).shape.join('×') || 'scalar' : '?';

/** Wraps every kernel of the raw step (the registry hands back its config object, so this sticks). */
function instrumentKernels(): void {
  for (const name of KERNELS) {
    const config = tf.getKernel(name, 'wasm') as unknown as {
      kernelFunc: (a: { inputs: object }) => unknown;
    };
    const inner = config.kernelFunc;
    config.kernelFunc = timed(
      (a: { inputs: object }) =>
        `${name} ${Object.values(a.inputs)
          .map(dims)
          .join(name.includes('MatMul') ? ' · ' : ', ')}`,
      inner,
    );
  }
}

function instrumentMethods(): void {
  const wrap = <T extends object>(proto: T, method: keyof T & string, label: string): void => {
    const inner = proto[method] as unknown as (...a: unknown[]) => unknown;
    (proto as Record<string, unknown>)[method] = function (this: unknown, ...a: unknown[]) {
      const t0 = cpu();
      const r = inner.apply(this, a);
      record(label, cpu() - t0);
      return r;
    };
  };
  wrap(Pass.prototype, 'input', 'host: `Pass.input` (backend.write of rows, weights, scalars)');
  wrap(Pass.prototype, 'readInto', 'host: `Pass.readInto` (gradients copied from the heap)');
  wrap(Pass.prototype, 'read', 'host: `Pass.read` (log-density readback)');
  wrap(Pass.prototype, 'free', 'host: `Pass.free` (disposeData of the intermediates)');
  wrap(HostStepper.prototype, 'computeHost', '= `computeHost` (the raw gradient pass, all of it)');
  wrap(HostStepper.prototype, 'finish', '= `finish` (unpack, norm, AdamW, commit, refold)');
}

function calibrate(): void {
  const n = 20_000;
  const t0 = cpu();
  for (let i = 0; i < n; i++) cpu();
  overhead = (cpu() - t0) / n;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), ['steps', 'batch']);
  const steps = Math.round(numberArg(args, 'steps', 400));
  const n = Math.round(numberArg(args, 'batch', 256));
  await initBackend('wasm');
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ');
  const rng = createRng(1);
  const x = Float32Array.from({ length: n * 8 }, () => rng.normal());
  const flow = realNVP({ dim: 8, layers: 6, hidden: 64, seed: 1 });
  const trainer = new Trainer(flow, { engine: 'fused', clipNorm: 1 });
  for (let i = 0; i < 50; i++) await trainer.stepRows(x, n);
  const b0 = cpu();
  for (let i = 0; i < steps; i++) await trainer.stepRows(x, n);
  const bare = (cpu() - b0) / steps;
  instrumentKernels();
  instrumentMethods();
  calibrate();
  process.stdout.write(
    `# One raw fused step, per kernel (wasm, process CPU time)\n\nload average ${load()}\n\n`,
  );
  for (let i = 0; i < 50; i++) await trainer.stepRows(x, n);
  recording = true;
  const t0 = cpu();
  for (let i = 0; i < steps; i++) await trainer.stepRows(x, n);
  const total = (cpu() - t0) / steps;
  recording = false;
  const rows = [...slots.entries()].sort((a, b) => b[1].us - a[1].us);
  const kernelUs = rows
    .filter(([k]) => !k.startsWith('host') && !k.startsWith('='))
    .reduce((s, [, v]) => s + v.us, 0);
  const table = markdownTable(
    [`${steps} steps of RealNVP 6×64, d = 8, batch ${n}`, 'calls/step', 'µs/call', 'µs/step', 'share'],
    [
      ['whole `Trainer.stepRows`, not instrumented (for reference)', '1', '', bare.toFixed(0), ''],
      [
        'whole `Trainer.stepRows`, instrumented (the shares are of this)',
        '1',
        '',
        total.toFixed(0),
        '100.0%',
      ],
      ...rows.map(([k, v]) => [
        k,
        (v.calls / steps).toFixed(v.calls % steps === 0 ? 0 : 1),
        (v.us / v.calls).toFixed(1),
        (v.us / steps).toFixed(0),
        `${((100 * v.us) / steps / total).toFixed(1)}%`,
      ]),
      [
        'all kernels',
        '',
        '',
        (kernelUs / steps).toFixed(0),
        `${((100 * kernelUs) / steps / total).toFixed(1)}%`,
      ],
    ],
  );
  process.stdout.write(
    `${table}\n\ntimer cost ${overhead.toFixed(2)} µs a call, subtracted; load average ${load()} at the end\n`,
  );
  trainer.dispose();
  flow.dispose();
}

await main();
