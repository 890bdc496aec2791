/** The job's parts built from a config: feature spec, drift monitor, suppressor, the detector the pipeline calls. */
import type { AppConfig } from '../config/schema.js';
import type { BatchDetector } from '../core/detector.js';
import { DriftMonitor } from '../detector/drift.js';
import type { DetectorParts } from '../detector/factory.js';
import type { DetectorObserver } from '../detector/online-detector.js';
import { AlertSuppressor } from '../detector/suppression.js';
import {
  ConditionalDetector,
  conditionalOptionsFromConfig,
  TimeSeriesDetector,
  TimeSeriesFeaturizer,
  timeSeriesOptionsFromConfig,
} from '../detector/timeseries/index.js';
import { InvalidOptionError } from '../errors.js';
import type { DetectorMetrics } from '../metrics/index.js';
import { createFeatureSpec, type FeatureSpec } from '../streams/feature-spec.js';
import type { Checkpointer } from './checkpoint.js';

/** The drift monitor of `config.drift`, or undefined when disabled. */
export function createDriftMonitor(config: AppConfig): DriftMonitor | undefined {
  const d = config.drift;
  if (!d.enabled) return undefined;
  return new DriftMonitor({
    window: d.window,
    referenceEvents: d.referenceEvents,
    level: d.level,
    forMs: d.forMs,
    afterConfirmed: d.afterConfirmed,
  });
}

/** The alert suppressor of `config.suppression`, or undefined when disabled. */
export function createAlertSuppressor(config: AppConfig): AlertSuppressor | undefined {
  const s = config.suppression;
  if (!s.enabled) return undefined;
  return new AlertSuppressor({
    mode: s.mode,
    quietMs: s.quietMs,
    minIntervalMs: s.minIntervalMs,
    maxKeys: s.maxKeys,
  });
}

/** The decoder's feature spec of `config.features`. */
export function featureSpecOf(config: AppConfig): FeatureSpec {
  return createFeatureSpec({
    fields: [...config.features.fields],
    maxRecordBytes: config.features.maxRecordBytes,
    maxKeyBytes: config.features.maxKeyBytes,
    ...(config.features.keyField === undefined ? {} : { keyField: config.features.keyField }),
  });
}

/** Detector callbacks that feed the training and threshold metrics. */
export function detectorMetricsObserver(config: AppConfig, metrics: DetectorMetrics): DetectorObserver {
  return {
    onTrainStep: (r) => {
      if (r.skipped) metrics.trainingStepsSkipped.inc({ reason: 'non_finite' });
      else {
        metrics.trainingSteps.inc();
        metrics.trainingLoss.set(r.loss);
      }
    },
    onBatchScored: (b) => {
      if (Number.isFinite(b.threshold))
        metrics.threshold.set({ policy: config.threshold.policy }, b.threshold);
    },
  };
}

/**
 * The detector the pipeline calls. In univariate time-series mode, vectors are built per micro-batch from
 * each key's recent values, so the featurizer's state always matches what the model has seen and is
 * checkpointed with it.
 */
export function pipelineDetector(
  config: AppConfig,
  parts: DetectorParts,
  checkpoints: Checkpointer,
): BatchDetector {
  const seriesOptions = timeSeriesOptionsFromConfig(config);
  if (seriesOptions === null) return parts.detector;
  const conditional = conditionalOptionsFromConfig(config);
  if (conditional !== null) {
    if (config.checkpoint.dir !== undefined || config.checkpoint.file !== undefined) {
      throw new InvalidOptionError(
        'timeseries.conditional is not checkpointed yet; unset checkpoint.dir/file or turn conditional off',
      );
    }
    return new ConditionalDetector(conditional.model, conditional.scoring, conditional.threshold);
  }
  const featurizer = new TimeSeriesFeaturizer(seriesOptions);
  checkpoints.register('timeseries', featurizer);
  return new TimeSeriesDetector(featurizer, parts.detector);
}
