/** MAF trained on the 2-D toys: held-out NLL vs the generator entropy and sample moments. */
import { maf } from '../../src/flow/builders.js';
import { MOONS, RING } from '../helpers/toy-eval.js';
import { toyCase } from '../helpers/toy-suite.js';

const build = () => maf({ dim: 2, layers: 8, hidden: 64, activation: 'relu', seed: 5 });

toyCase('maf', {
  toy: MOONS,
  build,
  training: { steps: 1000, batch: 512, learningRate: 5e-3, seed: 21 },
  moments: true,
});

toyCase('maf', {
  toy: RING,
  build,
  training: { steps: 1000, batch: 512, learningRate: 5e-3, seed: 22 },
  moments: true,
});
