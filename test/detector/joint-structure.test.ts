/**
 * Issue 15 item 1: the tabular default must see anomalies that are normal in every marginal and unusual
 * only in how the features combine. Normal rows lie near a ridge: four features driven by one latent
 * value t = ±(1.5 + 0.4·N(0, 1)) plus small noise, so every marginal is symmetric about its centre. An
 * anomaly is a normal row with features b and d mirrored about their centres: each marginal is unchanged,
 * and so is the row's product of marginal densities (the score of any independent-marginals model), but
 * the row lies far off the ridge. A product of marginals (the old default, `model.type: mixture-cdf`)
 * therefore ranks anomalies like normal rows (ROC-AUC ≈ 0.5).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigOverrides } from '../../src/config/load.js';
import { createRng, type Rng } from '../../src/core/rng.js';
import { createDetector, type DetectorParts } from '../../src/detector/factory.js';
import { loadEvaluationConfig, TABULAR_CONFIG_FILE, TABULAR_DEFAULTS } from '../../src/evaluate/config.js';
import { rocAuc } from '../../src/evaluate/metrics.js';
import { toEvents } from '../helpers/detector-data.js';
import { testBackend } from '../helpers/detector-fixtures.js';

const FIELDS = ['a', 'b', 'c', 'd'];
const LOADINGS = [1, -0.8, 0.6, 1.2];
const CENTRES = [5, -2, 40, 0];
const SCALES = [2, 0.5, 10, 1];
const NOISE = 0.12;
/** Features an anomaly mirrors about their centres. */
const MIRRORED = new Set([1, 3]);

function ridgeRow(rng: Rng, anomaly: boolean): number[] {
  const t = (rng.uniform() < 0.5 ? -1 : 1) * (1.5 + 0.4 * rng.normal());
  return LOADINGS.map((l, j) => {
    const dev = SCALES[j]! * (l * t + NOISE * rng.normal());
    return CENTRES[j]! + (anomaly && MIRRORED.has(j) ? -dev : dev);
  });
}

/** `n` rows; after `cleanPrefix`, each row is an anomaly with probability `rate`. */
function jointStream(seed: number, n: number, cleanPrefix: number, rate: number) {
  const rng = createRng(seed);
  const rows: number[][] = [];
  const labels: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const anomaly = i >= cleanPrefix && rng.uniform() < rate;
    rows.push(ridgeRow(rng, anomaly));
    labels.push(anomaly);
  }
  return { rows, labels };
}

const open: DetectorParts[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.dispose();
});

/** ROC-AUC of the anomaly scores over the scored rows, with the shipped tabular config (+ overrides). */
async function scoredAuc(overrides: ConfigOverrides): Promise<number> {
  const { config } = loadEvaluationConfig({
    defaultFile: TABULAR_CONFIG_FILE,
    defaults: TABULAR_DEFAULTS,
    fields: FIELDS,
    env: {},
    overrides: { backend: testBackend(), ...overrides },
  });
  const parts = createDetector(config);
  open.push(parts);
  const { rows, labels } = jointStream(15, 4000, 800, 0.03);
  const scores: number[] = [];
  const truth: boolean[] = [];
  const size = config.batching.maxSize;
  for (let i = 0; i < rows.length; i += size) {
    const out = await parts.detector.process(toEvents(rows.slice(i, i + size), i));
    out.forEach((s, k) => {
      if (s.status !== 'scored') return;
      scores.push(-s.logLikelihood);
      truth.push(labels[i + k]!);
    });
  }
  expect(truth.filter(Boolean).length).toBeGreaterThan(80);
  const auc = rocAuc(scores, truth);
  console.log(`joint-structure ROC-AUC ${JSON.stringify(overrides)}: ${auc.toFixed(4)}`);
  return auc;
}

describe('joint structure (issue 15)', () => {
  it('the tabular default finds rows that are normal in every marginal but off the ridge', async () => {
    expect(await scoredAuc({})).toBeGreaterThanOrEqual(0.95);
  });

  it('the old default, a marginal-only model, stays near chance on the same stream', async () => {
    const old: ConfigOverrides = {
      model: { type: 'mixture-cdf', components: 8 },
      training: { trimTail: 0, dequantise: 'off' },
    };
    const auc = await scoredAuc(old);
    expect(auc).toBeGreaterThan(0.35);
    expect(auc).toBeLessThan(0.65);
  });
});
