/**
 * Neural spline flow trained on the moons toy: held-out NLL, normalisation, sample moments. The ring is in
 * toys-spline-ring.test.ts: one training per file keeps each file under a minute.
 */
import { splineFlow } from '../../src/flow/builders.js';
import { MOONS } from '../helpers/toy-eval.js';
import { toyCase } from '../helpers/toy-suite.js';

// bound 4 covers both toys (|x| ≤ 3.4 for the ring out to 4.7σ), so the data sit on the spline part.
const build = () => splineFlow({ dim: 2, layers: 4, hidden: 64, bins: 8, bound: 4, seed: 7 });

toyCase('splineFlow', {
  toy: MOONS,
  build,
  training: { steps: 500, batch: 512, learningRate: 5e-3, seed: 31 },
  // See toys-realnvp: ≥ 1 unit (10 σ) of margin around the data, step σ/5.
  grid: { lo: [-2.5, -2], hi: [3.5, 2.5], step: 0.02 },
  moments: true,
});
