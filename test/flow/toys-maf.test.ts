/**
 * MAF trained on the moons toy: held-out NLL vs the generator entropy and sample moments. The ring is in
 * toys-maf-ring.test.ts: one training per file keeps each file under a minute.
 */
import { maf } from '../../src/flow/builders.js';
import { MOONS } from '../helpers/toy-eval.js';
import { toyCase } from '../helpers/toy-suite.js';

const build = () => maf({ dim: 2, layers: 8, hidden: 64, activation: 'relu', seed: 5 });

toyCase('maf', {
  toy: MOONS,
  build,
  training: { steps: 1000, batch: 512, learningRate: 5e-3, seed: 21 },
  moments: true,
});
