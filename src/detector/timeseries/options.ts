/**
 * Univariate time-series mode: turns each event's single value into a vector built from the last k values
 * of its key's series (as lags, or as the current value plus successive differences) and optional
 * time-of-day / day-of-week features. See docs/detector.md, "Time-series mode".
 */
import { InvalidOptionError } from '../../errors.js';
import type { SeriesScoringOptions } from '../series-scorer.js';

/** Options of `TimeSeriesFeaturizer` (config section `timeseries`, plus the source field's name). */
export interface TimeSeriesOptions {
  /** Name of the single input feature (the one `features.fields` entry); prefixes the generated names. */
  readonly field: string;
  /** k: values of the key's series per vector, the current one included (≥ 2). */
  readonly lags: number;
  /** Encode lags 1…k−1 as successive differences x_{t−i+1} − x_{t−i} instead of raw values. */
  readonly differences: boolean;
  /** Append (sin, cos) of the UTC time of day. */
  readonly timeOfDay: boolean;
  /** Append (sin, cos) of the position in the UTC week (Monday 00:00 = 0). */
  readonly dayOfWeek: boolean;
  /** Series kept; the least recently seen key beyond this is forgotten (and warms up again). */
  readonly maxKeys: number;
  /**
   * Per-series scoring of the detector's outputs (`TimeSeriesDetector`, `SeriesScorer`); absent or
   * `enabled: false` = the detector's own scores and verdicts pass through.
   */
  readonly scoring?: SeriesScoringOptions | undefined;
}

/** The part of the app config time-series mode reads (`AppConfig` satisfies it). */
export interface TimeSeriesConfigSlice {
  readonly features: { readonly fields: readonly string[] };
  readonly timeseries: Omit<TimeSeriesOptions, 'field'> & { readonly enabled: boolean };
}

/** Names of the generated features, in vector order, e.g. `value_lag0, value_diff1, …, tod_sin, tod_cos`. */
export function timeSeriesFeatureNames(o: Omit<TimeSeriesOptions, 'maxKeys'>): string[] {
  const names = [`${o.field}_lag0`];
  for (let i = 1; i < o.lags; i++) names.push(o.differences ? `${o.field}_diff${i}` : `${o.field}_lag${i}`);
  if (o.timeOfDay) names.push('tod_sin', 'tod_cos');
  if (o.dayOfWeek) names.push('dow_sin', 'dow_cos');
  return names;
}

/**
 * Time-series options from the app config, or null when the mode is off. Throws `InvalidOptionError`
 * unless `features.fields` names exactly one field.
 */
export function timeSeriesOptionsFromConfig(config: TimeSeriesConfigSlice): TimeSeriesOptions | null {
  const t = config.timeseries;
  if (!t.enabled) return null;
  const [field, ...rest] = config.features.fields;
  if (field === undefined || rest.length > 0) {
    throw new InvalidOptionError(
      `timeseries mode reads one value per event; set features.fields to a single field (e.g. [value]), got ${config.features.fields.length}`,
    );
  }
  return { field, ...t };
}

/** The model's feature names: the generated time-series names in time-series mode, else `features.fields`. */
export function modelFeatureNames(config: TimeSeriesConfigSlice): string[] {
  const ts = timeSeriesOptionsFromConfig(config);
  return ts === null ? [...config.features.fields] : timeSeriesFeatureNames(ts);
}
