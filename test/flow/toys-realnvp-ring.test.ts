/**
 * RealNVP trained on the ring toy: held-out NLL vs the generator entropy. Split from toys-realnvp.test.ts
 * (moons) to keep each file under a minute; same architecture and budget as before the split.
 */
import { realNVP } from '../../src/flow/builders.js';
import { RING } from '../helpers/toy-eval.js';
import { toyCase } from '../helpers/toy-suite.js';

// ReLU conditioners: on the ring, tanh ones stayed > 0.2 nats from the entropy at the same budget.
const build = () => realNVP({ dim: 2, layers: 8, hidden: 64, activation: 'relu', seed: 3 });

toyCase('realNVP', {
  toy: RING,
  build,
  training: { steps: 1000, batch: 512, learningRate: 5e-3, seed: 12 },
});
