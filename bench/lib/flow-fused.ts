/** The fused-engine cells of bench/flow.bench.ts. */
import type { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import type * as tf from '../../src/flow/tf.js';
import { Trainer } from '../../src/flow/trainer.js';
import { measureRate, type RateResult, type TimingPlan } from './timing.js';

/** Score and train rates of the fused engine on a fresh copy of the model. */
export async function fusedCell(
  model: { readonly build: (dim: number) => NormalizingFlow },
  dim: number,
  x: tf.Tensor2D,
  plan: TimingPlan,
): Promise<{ score: RateResult; train: RateResult }> {
  const flow = model.build(dim);
  const trainer = new Trainer(flow, { learningRate: 1e-3, engine: 'fused' });
  const rows = x.dataSync() as Float32Array;
  const batch = x.shape[0];
  try {
    flow.initialize(x);
    const score = await measureRate(async () => void (await trainer.scoreRows(rows, batch)), batch, plan);
    const train = await measureRate(async () => void (await trainer.step(x)), batch, plan);
    return { score, train };
  } finally {
    trainer.dispose();
    flow.dispose();
  }
}
