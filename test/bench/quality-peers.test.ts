import { describe, expect, it } from 'vitest';
import { maskWarmup, peerResults } from '../../bench/lib/quality-peers.js';
import { type TabularRow, tabularTables } from '../../bench/lib/quality-tables.js';

/** Labels: rows 0, 1 and 8 are anomalies. Scores rank every anomaly first except under the mask. */
const labels = [true, true, false, false, false, false, false, false, true, false];
const perfect = labels.map((l) => (l ? 10 : 1));

function scores() {
  const river = { tabular: { f: { rows: 10, hst: perfect, gaussian: perfect } }, nab: {} };
  const python = {
    versions: {},
    tabular: {
      f: {
        rows: 10,
        seeds: [1, 2],
        mahalanobis: perfect,
        realnvp: [perfect, labels.map((l, i) => (l ? 10 : i))],
        iforest: [perfect, perfect],
      },
    },
  };
  return { river, python };
}

describe('bench:quality peers', () => {
  it('ranks the first W rows lowest under the mask, and leaves the scores alone without it', () => {
    expect(maskWarmup([3, 2, 1, 5], 2)).toEqual([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, 5]);
    const { river, python } = scores();
    const r = peerResults(river, python, 'f', labels, 2);
    expect(r.hst.unmasked.rocAuc).toBe(1);
    // Masked, the anomalies of rows 0 and 1 rank below every normal row: only row 8 is found.
    expect(r.hst.masked.rocAuc).toBeCloseTo(1 / 3, 12);
    expect(r.realnvp.seedRocAuc).toHaveLength(2);
    expect(r.realnvp.seedRocAuc![0]).toBe(r.realnvp.masked.rocAuc);
    expect(r.hst.seedRocAuc).toBeUndefined();
  });

  it('rejects scores of the wrong length instead of ranking them', () => {
    const { river, python } = scores();
    expect(() => peerResults(river, python, 'f', [...labels, false], 2)).toThrow(/expected 11 scores/);
    expect(() => peerResults(river, python, 'g', labels, 2)).toThrow(/no scores for g/);
  });

  it('prints both protocols, the means and the acceptance against the best online peer', () => {
    const { river, python } = scores();
    const row: TabularRow = {
      dataset: 'f',
      rows: 10,
      anomalies: 3,
      warmup: 2,
      flowsentinel: {
        masked: { rocAuc: 0.4, prAuc: 0.5 },
        scoredOnly: { rocAuc: 0.9, prAuc: 0.8 },
        eventsPerSecond: 1,
        seconds: 1,
        realisedAlertRate: 0.011,
        configuredAlertRate: 0.01,
      },
      peers: peerResults(river, python, 'f', labels, 2),
    };
    const text = tabularTables([row]);
    expect(text).toContain('ROC-AUC, warm-up mask (primary');
    expect(text).toContain('ROC-AUC, no mask');
    expect(text).toMatch(/\| mean +\| +10 \| +3 \| +- \| +0\.400 \|/);
    expect(text).toContain('flowsentinel ≥ the best online peer on 1 of 1 sets');
    expect(text).toContain('met on 1 of 1');
    expect(text).toContain('1.10×');
  });
});
