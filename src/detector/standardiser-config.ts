import type { AppConfig } from '../config/schema.js';
import { InvalidOptionError } from '../errors.js';
import type { StandardiserOptions } from './standardiser.js';
import { modelFeatureNames } from './timeseries/options.js';

/**
 * `Standardiser` options from the `standardiser` and `warmup` sections. `standardiser.bounds` is keyed by
 * model feature name; a name that is not a model feature is an `InvalidOptionError` naming the key.
 */
export function standardiserOptions(config: AppConfig): StandardiserOptions {
  const names = modelFeatureNames(config);
  const s = config.standardiser;
  const unknown = Object.keys(s.bounds).filter((k) => !names.includes(k));
  if (unknown.length > 0) {
    throw new InvalidOptionError(
      `standardiser.bounds: ${unknown.map((k) => JSON.stringify(k)).join(', ')} ${unknown.length === 1 ? 'is not a model feature' : 'are not model features'}; the model features are ${JSON.stringify(names)}`,
    );
  }
  const hasBounds = Object.keys(s.bounds).length > 0;
  return {
    dim: names.length,
    mode: s.mode,
    emaAlpha: s.emaAlpha,
    minStd: s.minStd,
    clip: s.clip,
    ...(s.mode === 'freeze' && config.warmup.events > 0 ? { freezeAfter: config.warmup.events } : {}),
    ...(hasBounds
      ? {
          lower: names.map((n) => s.bounds[n]?.min ?? Number.NEGATIVE_INFINITY),
          upper: names.map((n) => s.bounds[n]?.max ?? Number.POSITIVE_INFINITY),
        }
      : {}),
  };
}
