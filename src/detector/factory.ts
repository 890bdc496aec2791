import type { AppConfig } from '../config/schema.js';
import { buildFlow } from '../flow/builders.js';
import { NormalizingFlow } from '../flow/normalizing-flow.js';
import { Logistic } from '../flow/priors/logistic.js';
import { createRng, type Rng } from '../flow/rng.js';
import { Trainer } from '../flow/trainer.js';
import { MixtureCdf } from '../flow/transforms/mixture-cdf.js';
import { type DetectorObserver, OnlineDetector } from './online-detector.js';
import { Reservoir } from './reservoir.js';
import { Standardiser } from './standardiser.js';
import { createThresholdPolicy } from './thresholds/factory.js';
import type { ThresholdPolicy } from './thresholds/types.js';

/** Everything a running detector owns; `dispose` frees the tfjs variables. */
export interface DetectorParts {
  readonly detector: OnlineDetector;
  readonly flow: NormalizingFlow;
  readonly trainer: Trainer;
  readonly standardiser: Standardiser;
  readonly threshold: ThresholdPolicy;
  readonly reservoir: Reservoir | undefined;
  readonly rng: Rng;
  dispose(): void;
}

/**
 * Builds the flow for `model` config at `dim` features. `mixture-cdf` is an elementwise mixture-CDF
 * per feature into a Logistic prior (independent marginals: right for univariate series, blind to
 * correlations between features).
 */
export function buildModel(model: AppConfig['model'], dim: number): NormalizingFlow {
  switch (model.type) {
    case 'realnvp':
      return buildFlow({ type: 'realnvp', dim, layers: model.layers, hidden: model.hidden, seed: model.seed });
    case 'maf':
      return buildFlow({ type: 'maf', dim, layers: model.layers, hidden: model.hidden, seed: model.seed });
    case 'spline':
      return buildFlow({
        type: 'spline',
        dim,
        layers: model.layers,
        hidden: model.hidden,
        bins: model.bins,
        bound: model.bound,
        seed: model.seed,
      });
    case 'mixture-cdf':
      return new NormalizingFlow(new Logistic({ dim }), [
        new MixtureCdf({ dim, components: model.components, output: 'logit', rng: createRng(model.seed) }),
      ]);
  }
}

/** Builds a ready `OnlineDetector` and its parts from the validated config. */
export function createDetector(config: AppConfig, observer?: DetectorObserver): DetectorParts {
  const dim = config.features.fields.length;
  const flow = buildModel(config.model, dim);
  const t = config.training;
  const trainer = new Trainer(flow, {
    learningRate: t.learningRate,
    weightDecay: t.weightDecay,
    clipNorm: t.clipNorm,
  });
  const standardiser = new Standardiser({
    dim,
    mode: config.standardiser.mode,
    emaAlpha: config.standardiser.emaAlpha,
    minStd: config.standardiser.minStd,
    ...(config.standardiser.mode === 'freeze' && config.warmup.events > 0
      ? { freezeAfter: config.warmup.events }
      : {}),
  });
  const threshold = createThresholdPolicy(config.threshold);
  const reservoir = t.replayReservoir.size > 0 ? new Reservoir(t.replayReservoir.size, dim) : undefined;
  const rng = createRng(config.model.seed + 1);
  const detector = new OnlineDetector({
    flow,
    trainer,
    standardiser,
    threshold,
    rng,
    warmupEvents: config.warmup.events,
    stepsPerBatch: t.stepsPerBatch,
    batchSize: t.batchSize,
    ...(reservoir ? { reservoir, replayFraction: Math.min(t.replayReservoir.fraction, 0.95) } : {}),
    trainOnAnomalies: t.trainOnAnomalies,
    ...(observer ? { observer } : {}),
  });
  return {
    detector,
    flow,
    trainer,
    standardiser,
    threshold,
    reservoir,
    rng,
    dispose: () => {
      trainer.dispose();
      flow.dispose();
    },
  };
}
