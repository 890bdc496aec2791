/**
 * MAF trained on the ring toy: held-out NLL vs the generator entropy and sample moments. Split from
 * toys-maf.test.ts (moons) to keep each file under a minute; same architecture and budget as before.
 */
import { maf } from '../../src/flow/builders.js';
import { RING } from '../helpers/toy-eval.js';
import { toyCase } from '../helpers/toy-suite.js';

const build = () => maf({ dim: 2, layers: 8, hidden: 64, activation: 'relu', seed: 5 });

toyCase('maf', {
  toy: RING,
  build,
  training: { steps: 1000, batch: 512, learningRate: 5e-3, seed: 22 },
  moments: true,
});
