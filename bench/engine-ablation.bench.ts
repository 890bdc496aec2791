/**
 * Ablation of issue 14's changes, all in one process so that ratios are comparable on a shared machine:
 * one training step and one scoring call of RealNVP 6×64 at d = 8, batch 256 (autodiff, host optimizer
 * with autodiff gradients, the full fused step), then the detector alone (decoded rows, explanations on)
 * per cumulative change; and where a fused step's time goes (bench/lib/step-parts.ts). Prints tables; process
 * CPU time; asserts nothing. `--only=parts` prints just the step-parts table.
 *
 *   npx tsx bench/engine-ablation.bench.ts [--events=20000] [--repeats=3] [--backend=wasm] [--only=parts]
 */
import { loadavg } from 'node:os';
import { loadConfig } from '../src/config/index.js';
import { createRng } from '../src/core/rng.js';
import { createDetector } from '../src/detector/factory.js';
import { initBackend } from '../src/flow/backend.js';
import { realNVP } from '../src/flow/builders.js';
import type { NormalizingFlow } from '../src/flow/normalizing-flow.js';
import * as tf from '../src/flow/tf.js';
import { Trainer, type TrainerOptions } from '../src/flow/trainer.js';
import type { FeatureEvent } from '../src/streams/types.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { generatedRows } from './lib/fixture.js';
import { markdownTable, median } from './lib/stats.js';
import { stepPartsTable } from './lib/step-parts.js';
import { clockMs } from './lib/timing.js';

const FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];

const STEP_VARIANTS: readonly { name: string; options: TrainerOptions }[] = [
  { name: 'autodiff: tape, in-graph clip / finite gate / AdamW', options: { engine: 'autodiff' } },
  {
    name: '+ host optimizer (autodiff gradients, one readback, typed-array AdamW)',
    // A custom objective keeps autodiff gradients under the fused engine.
    options: { engine: 'fused', objective: (f: NormalizingFlow, x: tf.Tensor2D) => f.nll(x) },
  },
  { name: '+ tape-free step (folded weights, hand-written backward)', options: { engine: 'fused' } },
];

/** CPU ms per call of each variant, interleaved, median over `repeats` blocks of `calls` calls. */
async function perCall(
  fns: readonly (() => Promise<unknown>)[],
  repeats: number,
  calls: number,
): Promise<number[]> {
  const runs: number[][] = fns.map(() => []);
  for (const fn of fns) for (let i = 0; i < 20; i++) await fn();
  for (let r = 0; r < repeats; r++) {
    for (const [k, fn] of fns.entries()) {
      const c0 = clockMs('cpu');
      for (let i = 0; i < calls; i++) await fn();
      runs[k]!.push((clockMs('cpu') - c0) / calls);
    }
  }
  return runs.map(median);
}

async function microTables(repeats: number): Promise<string> {
  const rng = createRng(1);
  const values = Float32Array.from({ length: 256 * 8 }, () => rng.normal());
  const x = tf.tensor2d(values, [256, 8]);
  const trainers = STEP_VARIANTS.map(
    (v) => new Trainer(realNVP({ dim: 8, layers: 6, hidden: 64, seed: 1 }), { ...v.options, clipNorm: 1 }),
  );
  try {
    const steps = await perCall(
      trainers.map((t) => () => t.step(x)),
      repeats,
      50,
    );
    const scores = await perCall(
      [trainers[0]!, trainers[2]!].map((t) => () => t.scoreRows(values, 256)),
      repeats,
      100,
    );
    const stepTable = markdownTable(
      ['step variant (6×64, d = 8, batch 256)', 'CPU ms/step', 'vs autodiff'],
      STEP_VARIANTS.map((v, i) => [v.name, steps[i]!.toFixed(2), `${(steps[0]! / steps[i]!).toFixed(2)}×`]),
    );
    const scoreTable = markdownTable(
      ['scoring (batch 256)', 'CPU ms/call', 'vs autodiff'],
      ['autodiff: flow.score', 'fused: folded weights, fused matmul+bias+relu'].map((n, i) => [
        n,
        scores[i]!.toFixed(2),
        `${(scores[0]! / scores[i]!).toFixed(2)}×`,
      ]),
    );
    return `${stepTable}\n\n${scoreTable}`;
  } finally {
    for (const t of trainers) {
      t.dispose();
      t.flow.dispose();
    }
    x.dispose();
  }
}

const DETECTOR_VARIANTS = [
  {
    name: 'before: autodiff, explanation quantiles re-sampled every version',
    engine: 'autodiff',
    refresh: 1,
  },
  { name: '+ cached explanation quantiles (refreshVersions 32)', engine: 'autodiff', refresh: 32 },
  { name: '+ fused engine (host optimizer, fused scoring, tape-free step)', engine: 'fused', refresh: 32 },
] as const;

async function detectorTable(backend: string, events: number, repeats: number): Promise<string> {
  const rows = generatedRows({ seed: 2024, count: events, fields: FIELDS, anomalyRate: 0.01 });
  const batches: FeatureEvent[][] = [];
  for (let s = 0; s < events; s += 256) {
    const b: FeatureEvent[] = [];
    for (let i = s; i < Math.min(events, s + 256); i++) {
      const ref = { topic: 'bench', partition: 0, offset: String(i) };
      b.push({ ref, timestamp: i * 60_000, key: null, features: rows.values.slice(i * 8, (i + 1) * 8) });
    }
    batches.push(b);
  }
  const rates = DETECTOR_VARIANTS.map(() => ({ score: [] as number[], learn: [] as number[] }));
  for (let r = 0; r < repeats; r++) {
    for (const [k, v] of DETECTOR_VARIANTS.entries()) {
      for (const steps of [1, 0]) {
        const config = loadConfig({
          env: {},
          overrides: {
            backend: backend as 'wasm',
            features: { fields: FIELDS },
            model: { engine: v.engine },
            explain: { refreshVersions: v.refresh },
            training: { stepsPerBatch: steps },
            metrics: { enabled: false },
          },
        });
        const parts = createDetector(config);
        let n = 0;
        const c0 = clockMs('cpu');
        for (const b of batches) n += (await parts.detector.process(b)).length;
        const rate = (n * 1000) / (clockMs('cpu') - c0);
        parts.dispose();
        (steps === 1 ? rates[k]!.learn : rates[k]!.score).push(rate);
      }
    }
  }
  const base = { score: median(rates[0]!.score), learn: median(rates[0]!.learn) };
  return markdownTable(
    ['change (cumulative)', 'score only /CPU-s', 'vs before', 'score + learn /CPU-s', 'vs before'],
    DETECTOR_VARIANTS.map((v, k) => {
      const s = median(rates[k]!.score);
      const l = median(rates[k]!.learn);
      return [
        v.name,
        s.toFixed(0),
        `${(s / base.score).toFixed(2)}×`,
        l.toFixed(0),
        `${(l / base.learn).toFixed(2)}×`,
      ];
    }),
  );
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), ['events', 'repeats', 'backend', 'only']);
  const events = Math.round(numberArg(args, 'events', args.quick ? 5_000 : 20_000));
  const repeats = Math.round(numberArg(args, 'repeats', args.quick ? 1 : 3));
  const backend = (await initBackend((args.backend ?? 'wasm') as 'wasm')).name;
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ');
  process.stdout.write(
    `# Engine ablation (${backend}, process CPU time)\n\nload average ${load()} at the start\n\n`,
  );
  const partsRepeats = Math.max(repeats, 5);
  process.stdout.write(`Where a fused step goes, median of ${partsRepeats}:\n\n`);
  process.stdout.write(`${await stepPartsTable(partsRepeats)}\n\n`);
  if (args.values.get('only') === 'parts') {
    process.stdout.write(`load average ${load()} at the end\n`);
    return;
  }
  process.stdout.write(`${await microTables(repeats)}\n\n`);
  process.stdout.write(
    `Detector alone, RealNVP 6×64, d = 8, ${events} events, explanations on, median of ${repeats}:\n\n`,
  );
  process.stdout.write(
    `${await detectorTable(backend, events, repeats)}\n\nload average ${load()} at the end\n`,
  );
}

await main();
