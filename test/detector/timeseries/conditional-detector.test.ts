import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import type { FeatureEvent } from '../../../src/core/records.js';
import { createRng } from '../../../src/core/rng.js';
import { createDetector } from '../../../src/detector/factory.js';
import {
  type ConditionalConfigSlice,
  ConditionalDetector,
  conditionalOptionsFromConfig,
} from '../../../src/detector/timeseries/index.js';
import { silentLogger } from '../../../src/evaluate/run-stream.js';
import { openCheckpoints } from '../../../src/job/checkpoint.js';
import { pipelineDetector } from '../../../src/job/parts.js';

const slice = (
  over: Partial<ConditionalConfigSlice['timeseries']['scoring']> = {},
): ConditionalConfigSlice => ({
  model: { seed: 3 },
  training: { learningRate: 0.003, stepsPerBatch: 2, batchSize: 32, replayReservoir: { size: 500 } },
  standardiser: { emaAlpha: 0.01 },
  warmup: { events: 150 },
  threshold: { policy: 'quantile', window: 500 },
  timeseries: {
    lags: 3,
    timeOfDay: false,
    conditional: { enabled: true, hidden: 8, components: 2 },
    scoring: { enabled: true, score: 'pvalue', rangeTolerance: -1, threshold: 0.995, average: 1, ...over },
  },
});

function events(n: number, spikeAt: number): FeatureEvent[] {
  const rng = createRng(5);
  return Array.from({ length: n }, (_, i) => ({
    ref: { topic: 't', partition: 0, offset: String(i) },
    timestamp: i * 60_000,
    key: null,
    features: Float32Array.of(10 + rng.normal() + (i === spikeAt ? 30 : 0)),
  }));
}

async function run(detector: ConditionalDetector, input: readonly FeatureEvent[]) {
  const out = [];
  for (let s = 0; s < input.length; s += 32) out.push(...(await detector.process(input.slice(s, s + 32))));
  return out;
}

describe('ConditionalDetector', () => {
  const o = conditionalOptionsFromConfig(slice())!;

  it('warms up, then flags a spike: isAnomaly exactly when the score reaches the threshold', async () => {
    const out = await run(new ConditionalDetector(o.model, o.scoring, o.threshold), events(800, 600));
    expect(out.slice(0, 150).every((r) => r.status === 'warming' && !r.isAnomaly)).toBe(true);
    expect(out.slice(150).every((r) => r.status === 'scored' && Number.isFinite(r.logLikelihood))).toBe(true);
    expect(out[600]!.isAnomaly).toBe(true);
    for (const r of out) expect(r.isAnomaly).toBe(r.status === 'scored' && r.anomalyScore >= 0.995);
    expect(out[799]!.modelVersion).toBe(Math.floor(799 / 32));
  });

  it('is deterministic', async () => {
    const a = await run(new ConditionalDetector(o.model, o.scoring, o.threshold), events(400, 300));
    const b = await run(new ConditionalDetector(o.model, o.scoring, o.threshold), events(400, 300));
    expect(b).toEqual(a);
  });

  it('needs per-series scoring, and is off unless enabled', () => {
    expect(() => conditionalOptionsFromConfig(slice({ enabled: false }))).toThrow(/scoring.enabled/);
    const off = slice();
    expect(
      conditionalOptionsFromConfig({
        ...off,
        timeseries: { ...off.timeseries, conditional: { enabled: false, hidden: 8, components: 2 } },
      }),
    ).toBeNull();
  });
});

describe('the job with timeseries.conditional', () => {
  const config = (checkpointDir?: string) =>
    loadConfig({
      env: {},
      overrides: {
        features: { fields: ['value'] },
        timeseries: { enabled: true, lags: 3, conditional: { enabled: true }, scoring: { enabled: true } },
        ...(checkpointDir === undefined ? {} : { checkpoint: { dir: checkpointDir } }),
      },
    });

  it('builds the conditional detector instead of the flow over lag vectors', async () => {
    const c = config();
    const parts = createDetector(c);
    try {
      const checkpoints = await openCheckpoints({ config: c, logger: silentLogger() });
      const detector = pipelineDetector(c, parts, checkpoints);
      expect(detector).toBeInstanceOf(ConditionalDetector);
    } finally {
      parts.dispose();
    }
  });

  it('refuses checkpoints, which it cannot write yet, with a message saying what to change', async () => {
    const c = config('/tmp/never-written');
    const parts = createDetector(c);
    const checkpoints = await openCheckpoints({ config: config(), logger: silentLogger() });
    try {
      expect(() => pipelineDetector(c, parts, checkpoints)).toThrow(
        /not checkpointed yet; unset checkpoint.dir/,
      );
    } finally {
      parts.dispose();
    }
  });
});
