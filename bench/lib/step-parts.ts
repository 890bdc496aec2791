/**
 * Where one fused training step's CPU time goes (issue 14 follow-up): the whole `Trainer.step` of RealNVP
 * 6×64 at d = 8, batch 256, against its parts timed alone on the same sizes: the gradient kernels with
 * their readback, and the host parts of `HostStepper.finish` (AdamW over the flat parameters, the upload of
 * the new weights, the refold), plus the rejected alternative upload (one flat tensor sliced on the tfjs
 * side). Process CPU time, parts interleaved.
 */
import { createRng } from '../../src/core/rng.js';
import { realNVP } from '../../src/flow/builders.js';
import { FusedModel } from '../../src/flow/fused/fused-model.js';
import { fusedGradients } from '../../src/flow/fused/fused-step.js';
import { HostAdamW } from '../../src/flow/fused/host-adamw.js';
import { planFor } from '../../src/flow/fused/plan.js';
import * as tf from '../../src/flow/tf.js';
import { Trainer } from '../../src/flow/trainer.js';
import { markdownTable, median } from './stats.js';
import { clockMs } from './timing.js';

const CALLS = 50;

/** CPU ms per call of each part, interleaved, median over `repeats` blocks of `CALLS` calls. */
async function perCall(fns: readonly (() => unknown)[], repeats: number): Promise<number[]> {
  const runs: number[][] = fns.map(() => []);
  for (const fn of fns) for (let i = 0; i < 20; i++) await fn();
  for (let r = 0; r < repeats; r++) {
    for (const [k, fn] of fns.entries()) {
      const c0 = clockMs('cpu');
      for (let i = 0; i < CALLS; i++) await fn();
      runs[k]!.push((clockMs('cpu') - c0) / CALLS);
    }
  }
  return runs.map(median);
}

/** Markdown table: CPU ms per step or per part, and the part's share of a whole step. */
export async function stepPartsTable(repeats: number): Promise<string> {
  const rng = createRng(1);
  const values = Float32Array.from({ length: 256 * 8 }, () => rng.normal());
  const x = tf.tensor2d(values, [256, 8]);
  const trainer = new Trainer(realNVP({ dim: 8, layers: 6, hidden: 64, seed: 1 }), {
    engine: 'fused',
    clipNorm: 1,
  });
  const flow = realNVP({ dim: 8, layers: 6, hidden: 64, seed: 1 });
  const model = new FusedModel(planFor(flow)!, flow);
  model.refresh();
  const { store } = model;
  const optimizer = new HostAdamW(store.vars.map((v) => ({ shape: v.shape })));
  const grads = Float32Array.from({ length: store.size }, (_, i) => 1e-3 * Math.sin(i));
  const theta = store.values.slice();
  const source = fusedGradients(model);
  const gradients = (): void => {
    const packed = source.launch(x, store);
    packed.dataSync();
    packed.dispose();
  };
  const sliced = (): void => {
    const flat = tf.tensor1d(store.values);
    for (const [i, v] of store.vars.entries()) tf.slice(flat, store.offsets[i]!, v.size).dispose();
    flat.dispose();
  };
  try {
    const parts: readonly [string, () => unknown][] = [
      ['whole step (`Trainer.step`, fused)', () => trainer.step(x)],
      ['gradient kernels + readback (`fusedGradients.launch`)', gradients],
      [`AdamW on ${store.size} parameters (\`HostAdamW.apply\`)`, () => optimizer.apply(theta, grads, 1e-9)],
      [
        `upload new weights: ${store.vars.length} × \`tf.tensor\` + assign (\`commit\`)`,
        () => store.commit(),
      ],
      ['refold: fold, transpose, upload (`FusedModel.refold`)', () => model.refold()],
      [`rejected: 1 flat upload + ${store.vars.length} × \`tf.slice\``, sliced],
    ];
    const ms = await perCall(
      parts.map(([, fn]) => fn),
      repeats,
    );
    const step = ms[0]!;
    return markdownTable(
      ['part of one fused step (6×64, d = 8, batch 256)', 'CPU ms', 'share of the step'],
      parts.map(([name], i) => [name, ms[i]!.toFixed(3), `${((100 * ms[i]!) / step).toFixed(1)}%`]),
    );
  } finally {
    trainer.dispose();
    trainer.flow.dispose();
    model.dispose();
    flow.dispose();
    x.dispose();
  }
}
