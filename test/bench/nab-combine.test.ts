import { describe, expect, it } from 'vitest';
import {
  COMBINE_PAIRS,
  combinedCandidates,
  detectorEvidence,
  type Evidence,
  evidenceModel,
  pairName,
  parseEvidence,
} from '../../bench/lib/nab-combine.js';
import { createRng } from '../../src/core/rng.js';
import { NAB_PROFILES, type NabSeries } from '../../src/evaluate/nab-score.js';

const STEP = 60_000;

/** A seeded noisy series of `n` points with one window at [from, from + 20] (indices). */
function seriesOf(name: string, n: number, from: number, seed: number): NabSeries {
  const rng = createRng(seed);
  const timestamps = Array.from({ length: n }, (_, i) => i * STEP);
  return {
    name,
    timestamps,
    values: timestamps.map(() => rng.normal()),
    windows: [[from * STEP, (from + 20) * STEP]],
  };
}

/** Surprise streams: noise, with a large surprise at `at` (NaN for the first 50 points: warming). */
function surprises(n: number, at: number, seed: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => (i < 50 ? Number.NaN : i === at ? 30 : rng.normal() ** 2));
}

describe('evidence names', () => {
  it('reads a model and an optional /avgN', () => {
    expect(parseEvidence('joint/avg5')).toEqual({ model: 'joint', average: 5 });
    expect(parseEvidence('base')).toEqual({ model: 'base', average: 1 });
    expect(evidenceModel('jointdet')).toBe('joint');
    expect(evidenceModel('daily/avg5')).toBe('daily');
    expect(pairName(['base', 'jointdet'])).toBe('base+jointdet');
    for (const pair of COMBINE_PAIRS) expect(pairName(pair)).toMatch(/^\w+(\/avg\d+)?\+\w+(\/avg\d+)?$/);
  });

  it('turns the joint detector score 1 − p into p, warming (0) into NaN', () => {
    expect(detectorEvidence([[0, 0.25, 0.999]]).streams[0]).toEqual([Number.NaN, 0.75, 1 - 0.999]);
  });
});

describe('combinedCandidates', () => {
  // p-values among ~1300 recent surprises reach 1/1301, so a surprise above all of them passes 0.998.
  const corpus = [seriesOf('a/one.csv', 1600, 1400, 1), seriesOf('b/two.csv', 1600, 1450, 2)];
  const evidence = new Map<string, Evidence>([
    ['base', { kind: 'surprise', streams: [surprises(1600, 1402, 3), surprises(1600, 300, 4)] }],
    ['other', { kind: 'surprise', streams: [surprises(1600, 200, 5), surprises(1600, 1452, 6)] }],
  ]);
  const summaries = combinedCandidates(corpus, ['base', 'other'], evidence, NAB_PROFILES.standard, 100);

  it('names every rule × range × threshold of the pair', () => {
    expect(summaries).toHaveLength(3 * 3 * 6);
    expect(summaries[0]!.name).toBe('base+other sidak @0.998');
    expect(summaries.map((s) => s.name)).toContain('base+other fisher+range0.02 @0.9999');
  });

  it("finds each window through whichever model saw it (sidak), at a threshold the models' p-values reach", () => {
    const sidak = summaries.find((s) => s.name === 'base+other sidak @0.998')!;
    expect(sidak.categories.a!.fixed).toBeGreaterThan(50);
    expect(sidak.categories.b!.fixed).toBeGreaterThan(50);
  });

  it('is deterministic', () => {
    const again = combinedCandidates(corpus, ['base', 'other'], evidence, NAB_PROFILES.standard, 100);
    expect(again).toEqual(summaries);
  });
});
