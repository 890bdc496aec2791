/**
 * The candidates of the tabular-default selection (bench/tabular-loso.bench.ts): each is a set of config
 * overrides over config/tabular.yaml, one principled knob (or a pair that belongs together) at a time; none
 * is tuned to a set. docs/evaluation.md, "The tabular default", has the table and the reasons.
 */
import type { ConfigOverrides } from '../../src/config/load.js';
import { mergeOverrides } from '../../src/evaluate/config.js';

/** A candidate: its name, its overrides over the base config and how many knobs they change. */
export interface TabularCandidate {
  readonly name: string;
  readonly overrides: ConfigOverrides;
  readonly knobs: number;
}

/**
 * The knobs the candidates vary, at their values before this selection (the `base` candidate). Every
 * candidate sets all of them, so the table does not change when config/tabular.yaml takes the winner.
 */
const BASE: ConfigOverrides = {
  model: { components: 4, layers: 2, hidden: 8 },
  training: {
    stepsPerBatch: 2,
    learningRate: 0.002,
    batchSize: 128,
    trimTail: 0.05,
    trainOnAnomalies: false,
  },
  warmup: { events: 256 },
  threshold: { minObservations: 256 },
};

/** The candidates, the base first; each is `BASE` with its change. */
export const TABULAR_CANDIDATES: readonly TabularCandidate[] = [
  { name: 'base', overrides: {}, knobs: 0 },
  // More optimisation per event: the joint layer learns sooner (the masked metric rewards early quality).
  { name: 'steps 4', overrides: { training: { stepsPerBatch: 4 } }, knobs: 1 },
  {
    name: 'steps 4 + lr 0.001',
    overrides: { training: { stepsPerBatch: 4, learningRate: 0.001 } },
    knobs: 2,
  },
  { name: 'lr 0.004', overrides: { training: { learningRate: 0.004 } }, knobs: 1 },
  // No effect: a training step takes the micro-batch's new rows (≤ batching.maxSize = 64) and as many
  // replayed ones (fraction 0.5), so any batchSize ≥ 128 gives the same steps.
  { name: 'batch 256', overrides: { training: { batchSize: 256 } }, knobs: 1 },
  // A shorter warm-up: fewer rows ranked lowest, if the model is already good by then.
  { name: 'warm-up 128', overrides: { warmup: { events: 128 } }, knobs: 1 },
  // The same 384 unscored rows with the model's warm-up (and the frozen standardiser's sample) kept at 256:
  // the threshold starts on 128 scores instead.
  { name: 'threshold start 128', overrides: { threshold: { minObservations: 128 } }, knobs: 1 },
  // Richer marginals (the old marginal-only default had 8).
  { name: 'components 8', overrides: { model: { components: 8 } }, knobs: 1 },
  // The two best single changes together.
  {
    name: 'warm-up 128 + steps 4 + lr 0.001',
    overrides: { warmup: { events: 128 }, training: { stepsPerBatch: 4, learningRate: 0.001 } },
    knobs: 3,
  },
  // Third selection: more capacity in the joint layers, affordable with the host engine (~10× faster), all
  // on the second selection's training (4 steps at lr 0.001). Wider conditioners (the PyTorch RealNVP peer
  // that wins cardio and shuttle has 4 couplings × 64), more couplings, and both.
  ...[
    { name: 'couplings × 16', model: { hidden: 16 } },
    { name: 'couplings × 32', model: { hidden: 32 } },
    { name: '3 couplings', model: { layers: 3 } },
    { name: '4 couplings', model: { layers: 4 } },
    { name: '4 couplings × 16', model: { layers: 4, hidden: 16 }, extra: 1 },
  ].map(({ name, model, extra = 0 }) => ({
    name: `steps 4 + lr 0.001 + ${name}`,
    overrides: { model, training: { stepsPerBatch: 4, learningRate: 0.001 } },
    knobs: 3 + extra,
  })),
  // Fourth selection: learn from more rows, as the PyTorch RealNVP peer does (it learns every row,
  // anomalies included): no likelihood trim, then also the flagged rows.
  {
    name: 'steps 4 + lr 0.001 + no trim',
    overrides: { training: { stepsPerBatch: 4, learningRate: 0.001, trimTail: 0 } },
    knobs: 3,
  },
  {
    name: 'steps 4 + lr 0.001 + learn every row',
    overrides: { training: { stepsPerBatch: 4, learningRate: 0.001, trimTail: 0, trainOnAnomalies: true } },
    knobs: 4,
  },
  // Sixth selection: heavier-tailed marginals. Logistic mixture components (as in Flow++) cost a far-tail
  // value ≈ |t| nats instead of ≈ t²/2, so among far-tail rows one extreme feature outweighs the others less.
  {
    name: 'steps 4 + lr 0.001 + logistic marginal',
    overrides: {
      model: { marginal: 'logistic' as const },
      training: { stepsPerBatch: 4, learningRate: 0.001 },
    },
    knobs: 3,
  },
  // Seventh selection: score by latent tail-ness, −log p_prior(f(x)) without the log-determinant, which
  // gives rows in a stretched (heavy-tailed) region of a marginal a moderate density. For the marginal
  // layer alone it is ECOD's two-sided tail-probability score; the couplings make it joint.
  {
    name: 'steps 4 + lr 0.001 + latent score',
    overrides: {
      model: { score: 'latent' as const },
      training: { stepsPerBatch: 4, learningRate: 0.001 },
    },
    knobs: 3,
  },
].map((c) => ({ ...c, overrides: mergeOverrides(BASE, c.overrides) }));
