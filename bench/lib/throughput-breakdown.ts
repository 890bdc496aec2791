import type { AppConfig } from '../../src/config/index.js';
import { buildModel } from '../../src/detector/factory.js';
import * as tf from '../../src/flow/tf.js';
import { Trainer } from '../../src/flow/trainer.js';
import type { FixtureRows } from './fixture.js';
import { formatMs, markdownTable } from './stats.js';
import { measureRate, type RateResult } from './timing.js';

/** Wall ms of the model's parts on one batch of `batch` rows (medians of timed repeats). */
export interface Breakdown {
  readonly batch: number;
  /** `flow.score` kernels only (wasm/cpu run them synchronously), no readback. */
  readonly scoreKernelsMs: number;
  /** `flow.score` plus one `data()` readback: what the detector does per micro-batch. */
  readonly scoreMs: number;
  /** Loss and gradients (`tf.variableGrads`) plus one readback, no optimizer update. */
  readonly gradientsMs: number;
  /** One `Trainer.step`: gradients, clipping, AdamW update, one readback. */
  readonly trainStepMs: number;
}

function standardisedBatch(rows: FixtureRows, n: number): tf.Tensor2D {
  const d = rows.fields.length;
  const x = rows.values.slice(0, n * d);
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i * d + j]! / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[i * d + j]! - mean) ** 2 / n;
    for (let i = 0; i < n; i++) x[i * d + j] = (x[i * d + j]! - mean) / Math.sqrt(v + 1e-12);
  }
  return tf.tensor2d(x, [n, d]);
}

function ms(r: RateResult): number {
  return r.kind === 'measured' ? r.msPerCall : Number.NaN;
}

/** Times the model's parts on the first `training.batchSize` rows with the config's model and trainer. */
export async function measureBreakdown(
  config: AppConfig,
  rows: FixtureRows,
  repeats: number,
): Promise<Breakdown> {
  const n = config.training.batchSize;
  const flow = buildModel(config.model, rows.fields.length);
  const trainer = new Trainer(flow, {
    learningRate: config.training.learningRate,
    weightDecay: config.training.weightDecay,
    clipNorm: config.training.clipNorm,
  });
  const x = standardisedBatch(rows, n);
  const plan = { warmupMs: 300, budgetMs: 1000, repeats, maxCallMs: 5000, clock: 'cpu' as const };
  try {
    const scoreKernels = await measureRate(async () => tf.tidy(() => flow.score(x)).dispose(), n, plan);
    const score = await measureRate(
      async () => {
        const lp = tf.tidy(() => flow.score(x));
        await lp.data();
        lp.dispose();
      },
      n,
      plan,
    );
    const gradients = await measureRate(
      async () => {
        const loss = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => flow.nll(x), flow.trainableVariables());
          for (const g of Object.values(grads)) g.dispose();
          return value;
        });
        await loss.data();
        loss.dispose();
      },
      n,
      plan,
    );
    const step = await measureRate(async () => void (await trainer.step(x)), n, plan);
    return {
      batch: n,
      scoreKernelsMs: ms(scoreKernels),
      scoreMs: ms(score),
      gradientsMs: ms(gradients),
      trainStepMs: ms(step),
    };
  } finally {
    x.dispose();
    trainer.dispose();
    flow.dispose();
  }
}

/** The breakdown as a table of ms per batch, with the whole job's time per batch for context. */
export function breakdownTable(
  b: Breakdown,
  pipeline: { readonly scoreOnly: number; readonly scoreLearn: number },
): string {
  const perBatch = (rate: number): number => (b.batch * 1000) / rate;
  const jobScore = perBatch(pipeline.scoreOnly);
  const jobLearn = perBatch(pipeline.scoreLearn);
  const share = (part: number, whole: number): string => `${Math.round((100 * part) / whole)} %`;
  const rows: [string, number, string][] = [
    ['whole job, score only', jobScore, '100 %'],
    ['· flow.score kernels', b.scoreKernelsMs, share(b.scoreKernelsMs, jobScore)],
    ['· + one data() readback', b.scoreMs - b.scoreKernelsMs, share(b.scoreMs - b.scoreKernelsMs, jobScore)],
    [
      '· rest: decode, rxjs, standardiser, threshold, explanations, metrics, sinks, acks',
      jobScore - b.scoreMs,
      share(jobScore - b.scoreMs, jobScore),
    ],
    ['whole job, score + learn', jobLearn, '100 %'],
    ['· scoring as above', jobScore, share(jobScore, jobLearn)],
    ['· Trainer.step: forward + backward + readback', b.gradientsMs, share(b.gradientsMs, jobLearn)],
    [
      '· Trainer.step: clip + AdamW update',
      b.trainStepMs - b.gradientsMs,
      share(b.trainStepMs - b.gradientsMs, jobLearn),
    ],
    [
      '· rest: explanations redrawn per model version, minibatch, reservoir',
      jobLearn - jobScore - b.trainStepMs,
      share(jobLearn - jobScore - b.trainStepMs, jobLearn),
    ],
  ];
  return markdownTable(
    ['part (per 256-event batch)', 'ms', 'share'],
    rows.map(([name, v, s]) => [name, formatMs(v), s]),
  );
}
