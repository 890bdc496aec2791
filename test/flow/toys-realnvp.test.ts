/**
 * RealNVP trained on the moons toy: held-out NLL vs the generator entropy, normalisation, sample moments.
 * The ring is in toys-realnvp-ring.test.ts: one training per file keeps each file under a minute (both
 * together took 85 s of CPU) and lets the two test workers train in parallel.
 * Budgets were chosen on the wasm backend.
 */
import { realNVP } from '../../src/flow/builders.js';
import { MOONS } from '../helpers/toy-eval.js';
import { toyCase } from '../helpers/toy-suite.js';

// ReLU conditioners: on the ring, tanh ones stayed > 0.2 nats from the entropy at the same budget.
const build = () => realNVP({ dim: 2, layers: 8, hidden: 64, activation: 'relu', seed: 3 });

toyCase('realNVP', {
  toy: MOONS,
  build,
  training: { steps: 800, batch: 512, learningRate: 5e-3, seed: 11 },
  // Data lie in [−1.4, 2.4] × [−0.9, 1.4]; the grid adds ≥ 1 unit of margin (10 noise σ) on every side and
  // the sampled-mass check bounds what the model puts beyond it. Step 0.02 = σ/5 resolves the 0.1-wide
  // moons: for smooth, fast-decaying integrands the midpoint rule's error decays like exp(−2π²σ²/h²).
  grid: { lo: [-2.5, -2], hi: [3.5, 2.5], step: 0.02 },
  moments: true,
});
