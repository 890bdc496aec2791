import { join } from 'node:path';
import { checkpointDir } from '../config/checkpoint-dir.js';
import type { AppConfig } from '../config/schema.js';
import type { KeyedModelObserver } from '../core/detector.js';
import { createRng, type Rng } from '../core/rng.js';
import { buildFlow } from '../flow/builders.js';
import { marginalCouplingFlow } from '../flow/builders-joint.js';
import { NormalizingFlow } from '../flow/normalizing-flow.js';
import { Logistic } from '../flow/priors/logistic.js';
import { Trainer } from '../flow/trainer.js';
import { MixtureCdf } from '../flow/transforms/mixture-cdf.js';
import { Dequantiser } from './dequantiser.js';
import { Explainer } from './explain.js';
import { KeyModelStore } from './key-model-store.js';
import { KeyedDetector } from './keyed-detector.js';
import { LearnBudget } from './learn-budget.js';
import { type DetectorObserver, OnlineDetector } from './online-detector.js';
import { Reservoir } from './reservoir.js';
import { Standardiser } from './standardiser.js';
import { standardiserOptions } from './standardiser-config.js';
import { createThresholdPolicy } from './thresholds/factory.js';
import type { ThresholdPolicy } from './thresholds/types.js';
import { modelFeatureNames } from './timeseries/index.js';

/**
 * Everything a running detector owns; `dispose` frees the tfjs variables. `flow`, `trainer` and `rng` are
 * those of the global model at the time of reading (`OnlineDetector.setState` replaces them).
 */
export interface DetectorParts {
  /** What the pipeline calls: the per-key detector when `perKey.enabled`, else the global detector. */
  readonly detector: OnlineDetector | KeyedDetector;
  /** The global model's detector (all events without per-key models). */
  readonly global: OnlineDetector;
  /** The per-key detector, when `perKey.enabled`. */
  readonly keyed: KeyedDetector | undefined;
  readonly flow: NormalizingFlow;
  readonly trainer: Trainer;
  readonly standardiser: Standardiser;
  readonly threshold: ThresholdPolicy;
  readonly reservoir: Reservoir | undefined;
  readonly rng: Rng;
  /** Which batches train, shared by the global and per-key models (`training.maxLearnFraction`, `training.budget`). */
  readonly budget: LearnBudget;
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
      return buildFlow({
        type: 'realnvp',
        dim,
        layers: model.layers,
        hidden: model.hidden,
        seed: model.seed,
      });
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
        new MixtureCdf({
          dim,
          components: model.components,
          family: model.marginal,
          output: 'logit',
          rng: createRng(model.seed),
        }),
      ]);
    case 'mixture-coupling':
      return marginalCouplingFlow({
        dim,
        components: model.components,
        family: model.marginal,
        layers: model.layers,
        hidden: model.hidden,
        seed: model.seed,
      });
  }
}

/** Options of `createDetector`. */
export interface CreateDetectorOptions {
  /** Clock of saved per-key model ages, epoch ms (default `Date.now`). */
  readonly now?: () => number;
  /** Told of per-key model counts, evictions and loads when `perKey.enabled` (e.g. for metrics). */
  readonly keyedObserver?: KeyedModelObserver;
  /**
   * The source has its own arrival rate (Kafka, paced replay): with `training.budget.enabled`, the learned
   * share adapts to the backlog the job reports. Default false: replays at max speed stay deterministic.
   */
  readonly liveSource?: boolean;
}

/** Options of one `OnlineDetector` built from config. */
interface OnlineBuildOptions {
  readonly observer?: DetectorObserver;
  /** Replay reservoir rows (default `training.replayReservoir.size`). */
  readonly reservoirSize: number;
  /** Seed of the minibatch/reservoir random source. */
  readonly rngSeed: number;
  /** Optimizer steps only when the event count crosses a multiple of this (per-key models). */
  readonly trainEvery?: number;
  readonly budget: LearnBudget;
  /** Batches of at most this many rows are scored on the host (per-key models; see `TrainerOptions`). */
  readonly hostScoreMaxRows?: number;
}

/** Training rows the dequantiser inspects before deciding which features are discrete. */
const DEQUANTISE_DETECTION_ROWS = 256;

/** A trainer for `flow` with the `training` settings. */
function trainerFor(config: AppConfig, hostScoreMaxRows = 0): (flow: NormalizingFlow) => Trainer {
  const t = config.training;
  return (flow) =>
    new Trainer(flow, {
      learningRate: t.learningRate,
      weightDecay: t.weightDecay,
      clipNorm: t.clipNorm,
      engine: config.model.engine,
      hostScoreMaxRows,
    });
}

/** One `OnlineDetector` with fresh initial weights from config; it owns its flow and trainer. */
function buildOnline(config: AppConfig, o: OnlineBuildOptions): OnlineDetector {
  const dim = modelFeatureNames(config).length;
  const flow = buildModel(config.model, dim);
  const t = config.training;
  const createTrainer = trainerFor(config, o.hostScoreMaxRows);
  const standardiser = new Standardiser(standardiserOptions(config));
  const reservoir = o.reservoirSize > 0 ? new Reservoir(o.reservoirSize, dim) : undefined;
  return new OnlineDetector({
    flow,
    trainer: createTrainer(flow),
    createTrainer,
    standardiser,
    threshold: createThresholdPolicy(config.threshold),
    rng: createRng(o.rngSeed),
    warmupEvents: config.warmup.events,
    stepsPerBatch: t.stepsPerBatch,
    ...(o.trainEvery === undefined ? {} : { trainEvery: o.trainEvery }),
    batchSize: t.batchSize,
    ...(reservoir ? { reservoir, replayFraction: Math.min(t.replayReservoir.fraction, 0.95) } : {}),
    trainOnAnomalies: t.trainOnAnomalies,
    trimTail: t.trimTail,
    score: config.model.score ?? 'density',
    ...(t.dequantise === 'auto' ? { dequantiser: new Dequantiser(dim, DEQUANTISE_DETECTION_ROWS) } : {}),
    budget: o.budget,
    ...(o.observer ? { observer: o.observer } : {}),
    ...(config.explain.enabled
      ? {
          explainer: new Explainer({
            fields: modelFeatureNames(config),
            topK: config.explain.topK,
            samples: config.explain.samples,
            refreshVersions: config.explain.refreshVersions,
            seed: config.model.seed,
          }),
        }
      : {}),
  });
}

/**
 * A per-key model scores a batch of at most this many of its rows on the host in JS rather than with
 * tfjs kernels: a key's share of a micro-batch is often a few rows, and a kernel call costs the same for
 * 1 row as for 64 (measured crossover on wasm about 14 rows of the default model; bench/perkey.bench.ts).
 */
export const PER_KEY_HOST_SCORE_ROWS = 12;

/** 32-bit FNV-1a hash of a string (seeds each key's random stream). */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The per-key detector around `global`, per the `perKey` and `checkpoint` sections. */
function buildKeyed(
  config: AppConfig,
  global: OnlineDetector,
  observer: DetectorObserver | undefined,
  options: CreateDetectorOptions,
  budget: LearnBudget,
): KeyedDetector {
  const dir = checkpointDir(config);
  // Per-key thresholds must not overwrite the global threshold gauge: keys report training steps only.
  const keyObserver: DetectorObserver | undefined = observer?.onTrainStep
    ? { onTrainStep: observer.onTrainStep }
    : undefined;
  return new KeyedDetector({
    global,
    base: config.perKey.base,
    maxKeys: config.perKey.maxKeys,
    createKeyDetector: (key) =>
      buildOnline(config, {
        reservoirSize: Math.min(config.perKey.reservoirSize, config.training.replayReservoir.size),
        rngSeed: (config.model.seed + 1) ^ hash32(key),
        trainEvery: config.perKey.trainEvery,
        budget,
        hostScoreMaxRows: PER_KEY_HOST_SCORE_ROWS,
        ...(keyObserver ? { observer: keyObserver } : {}),
      }),
    minEvents: config.perKey.minEvents,
    ...(dir === undefined
      ? {}
      : {
          store: new KeyModelStore(join(dir, 'keys'), {
            maxSaved: config.perKey.maxSaved,
            savedTtlMs: config.perKey.savedTtlMs,
            ...(options.now ? { now: options.now } : {}),
          }),
        }),
    ...(options.keyedObserver ? { observer: options.keyedObserver } : {}),
  });
}

/**
 * Builds a ready detector and its parts from the validated config: the global `OnlineDetector` and, when
 * `perKey.enabled`, a `KeyedDetector` around it (evicted key models go to `<checkpoint dir>/keys`).
 */
export function createDetector(
  config: AppConfig,
  observer?: DetectorObserver,
  options: CreateDetectorOptions = {},
): DetectorParts {
  const t = config.training;
  const budget = new LearnBudget({
    maxFraction: t.maxLearnFraction,
    minFraction: Math.min(t.budget.minLearnFraction, t.maxLearnFraction),
    adaptive: t.budget.enabled && options.liveSource === true,
  });
  const global = buildOnline(config, {
    reservoirSize: t.replayReservoir.size,
    rngSeed: config.model.seed + 1,
    budget,
    ...(observer ? { observer } : {}),
  });
  const keyed = config.perKey.enabled ? buildKeyed(config, global, observer, options, budget) : undefined;
  const { standardiser, threshold, reservoir } = global;
  return {
    detector: keyed ?? global,
    global,
    keyed,
    get flow() {
      return global.flow;
    },
    get trainer() {
      return global.trainer;
    },
    get rng() {
      return global.rng;
    },
    standardiser,
    threshold,
    reservoir,
    budget,
    dispose: () => {
      keyed?.dispose();
      global.dispose();
    },
  };
}
