/**
 * Issue 15 (seventh selection): with `model.score: latent` the detector's score (`logLikelihood`, which
 * the threshold reads) is log p_prior(f(x)) of the standardised row, no log-determinant and no
 * standardiser Jacobian; with the default it is log p(x) in original units. Checked against the trainer's
 * scoring of the same standardised rows, on the shipped tabular config with training off (the model and
 * the frozen standardiser do not move between the detector's scoring and the check).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigOverrides } from '../../src/config/load.js';
import { createRng } from '../../src/core/rng.js';
import { createDetector, type DetectorParts } from '../../src/detector/factory.js';
import type { OnlineDetector } from '../../src/detector/online-detector.js';
import { loadEvaluationConfig, TABULAR_CONFIG_FILE, TABULAR_DEFAULTS } from '../../src/evaluate/config.js';
import { normalRow, toEvents } from '../helpers/detector-data.js';
import { testBackend } from '../helpers/detector-fixtures.js';

const FIELDS = ['a', 'b', 'c'];
const open: DetectorParts[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.dispose();
});

function detector(model: ConfigOverrides['model']): OnlineDetector {
  const { config } = loadEvaluationConfig({
    defaultFile: TABULAR_CONFIG_FILE,
    defaults: TABULAR_DEFAULTS,
    fields: FIELDS,
    env: {},
    overrides: {
      backend: testBackend(),
      ...(model ? { model } : {}),
      training: { stepsPerBatch: 0 },
      warmup: { events: 64 },
    },
  });
  const parts = createDetector(config);
  open.push(parts);
  return parts.detector as OnlineDetector;
}

/** The detector's scores of a second batch and the trainer's score of the same standardised rows. */
async function scores(d: OnlineDetector, kind: 'density' | 'latent') {
  const rng = createRng(3);
  const rows = Array.from({ length: 128 }, () => normalRow(rng));
  rows[70] = [40, 9, -300];
  await d.process(toEvents(rows.slice(0, 64), 0));
  expect(d.standardiser.frozen).toBe(true);
  const out = await d.process(toEvents(rows.slice(64), 64));
  const raw = Float32Array.from(rows.slice(64).flat());
  const x = d.standardiser.transform(raw, 64, 3);
  const ref = await d.trainer.scoreRows(x, 64, kind);
  return {
    got: out.map((e) => e.logLikelihood),
    ref: Array.from(ref),
    logJac: d.standardiser.logDetJacobian(),
  };
}

describe('model.score (issue 15, seventh selection)', () => {
  it('latent: logLikelihood is log p_prior(f(x)) of the standardised row', async () => {
    const { got, ref } = await scores(detector({ score: 'latent' }), 'latent');
    expect(got).toEqual(ref);
    expect(Math.min(...got)).toBe(got[6]);
  });

  it('density (default): logLikelihood is log p(x) in original units', async () => {
    const { got, ref, logJac } = await scores(detector(undefined), 'density');
    expect(logJac).not.toBe(0);
    got.forEach((v, i) => {
      expect(v).toBeCloseTo(ref[i]! + logJac, 3);
    });
  });
});
