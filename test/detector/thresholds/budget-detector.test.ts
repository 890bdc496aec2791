import { afterEach, describe, expect, it } from 'vitest';
import { createRng } from '../../../src/core/rng.js';
import { createDetector, type DetectorParts } from '../../../src/detector/factory.js';
import { smallDetectorConfig, toEvents } from '../../helpers/detector-data.js';

const open: DetectorParts[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.dispose();
});

/** Seeded 2-D mixture of two correlated Gaussians, in feature units. */
function mixtureRows(seed: number, n: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const [z1, z2] = [rng.normal(), rng.normal()];
    return rng.uniform() < 0.7
      ? [5 + 2 * z1, -1 + 1.6 * z1 + 1.2 * z2]
      : [-4 + 0.5 * z1, 8 - 0.3 * z1 + 0.4 * z2];
  });
}

/** Realised alert rate of a detector learning the mixture from scratch, over its scored events. */
async function realisedRate(budget: 'normal' | 'all', n: number): Promise<number> {
  const parts = createDetector(
    smallDetectorConfig({
      features: { fields: ['a', 'b'] },
      warmup: { events: 200 },
      threshold: { policy: 'quantile', quantile: 0.01, budget, window: 2000, minObservations: 200 },
    }),
  );
  open.push(parts);
  const rows = mixtureRows(21, n);
  let scored = 0;
  let alerts = 0;
  for (let i = 0; i < n; i += 64) {
    const out = await parts.detector.process(toEvents(rows.slice(i, i + 64), i));
    for (const s of out) {
      if (s.status !== 'scored') continue;
      scored++;
      if (s.isAnomaly) alerts++;
    }
  }
  expect(scored).toBeGreaterThan(n - 600);
  return alerts / scored;
}

describe('alert budget with the real detector learning from scratch', () => {
  it('holds q = 0.01 within 0.5–1.5× while the model improves', async () => {
    const rate = await realisedRate('all', 8000);
    expect(rate / 0.01).toBeGreaterThan(0.5);
    expect(rate / 0.01).toBeLessThan(1.5);
  });
});
