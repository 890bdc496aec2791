/**
 * Neural spline flow trained on the ring toy: held-out NLL, normalisation, sample moments. Split from
 * toys-spline.test.ts (moons) to keep each file under a minute; same architecture and budget as before.
 */
import { splineFlow } from '../../src/flow/builders.js';
import { RING } from '../helpers/toy-eval.js';
import { toyCase } from '../helpers/toy-suite.js';

// bound 4 covers both toys (|x| ≤ 3.4 for the ring out to 4.7σ), so the data sit on the spline part.
const build = () => splineFlow({ dim: 2, layers: 4, hidden: 64, bins: 8, bound: 4, seed: 7 });

toyCase('splineFlow', {
  toy: RING,
  build,
  training: { steps: 500, batch: 512, learningRate: 5e-3, seed: 32 },
  // Data lie within radius 2 + 4σ = 3.2; the grid adds 0.8 (≈ 2.7σ beyond that, itself at 4σ) and the
  // sampled-mass check bounds the rest. Step 0.025 ≈ σ/12.
  grid: { lo: [-4, -4], hi: [4, 4], step: 0.025 },
  moments: true,
});
