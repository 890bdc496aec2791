/**
 * Configs of `flowsentinel evaluate`: the given file, else the shipped `config/tabular.yaml` /
 * `config/nab.yaml` when present, else the built-in defaults below; then FLOWSENTINEL_* variables of
 * `env`, then overrides and the seed. Evaluation always starts from fresh weights: checkpoint settings
 * are dropped.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { settingsFromEnv } from '../config/env.js';
import { type ConfigOverrides, loadConfig, readConfigFile } from '../config/load.js';
import type { AppConfig } from '../config/schema.js';
import { InvalidOptionError } from '../errors.js';

/** The shipped tabular evaluation config (used when it exists and no file is given). */
export const TABULAR_CONFIG_FILE = fileURLToPath(new URL('../../config/tabular.yaml', import.meta.url));
/** The shipped NAB evaluation config (used when it exists and no file is given). */
export const NAB_CONFIG_FILE = fileURLToPath(new URL('../../config/nab.yaml', import.meta.url));

/** Tabular defaults without a config file; `features.fields` comes from the CSV header. */
export const TABULAR_DEFAULTS: ConfigOverrides = {
  model: { type: 'realnvp', layers: 4, hidden: 32 },
  training: {
    stepsPerBatch: 2,
    learningRate: 0.002,
    batchSize: 128,
    replayReservoir: { size: 2000, fraction: 0.5 },
  },
  warmup: { events: 256 },
  threshold: { policy: 'quantile', quantile: 0.01, window: 5000, minObservations: 256 },
  batching: { maxSize: 64, highWaterMark: 1024 },
  metrics: { enabled: false },
  explain: { enabled: false },
};

/**
 * NAB defaults without a config file (docs/detector.md, "Time-series mode"): micro-batches of 32 points,
 * and flagged points learned too, since NAB series change regime and a model that never learns flagged
 * points keeps flagging the new regime.
 */
export const NAB_DEFAULTS: ConfigOverrides = {
  features: { fields: ['value'] },
  timeseries: { enabled: true, lags: 8, differences: true, timeOfDay: true, dayOfWeek: false },
  model: { type: 'realnvp', layers: 4, hidden: 32, seed: 3 },
  training: {
    stepsPerBatch: 4,
    learningRate: 0.003,
    batchSize: 128,
    replayReservoir: { size: 2000, fraction: 0.5 },
    trainOnAnomalies: true,
  },
  standardiser: { mode: 'ema', emaAlpha: 0.002 },
  warmup: { events: 300 },
  threshold: { policy: 'quantile', quantile: 0.005, window: 2000, minObservations: 300 },
  batching: { maxSize: 32, highWaterMark: 1024 },
  metrics: { enabled: false },
  explain: { enabled: false },
};

/** Options of `loadEvaluationConfig`. */
export interface EvaluationConfigOptions {
  /** YAML/JSON config file; default `defaultFile` when it exists, else `defaults`. */
  readonly file?: string;
  readonly defaultFile: string;
  readonly defaults: ConfigOverrides;
  /** FLOWSENTINEL_* variables applied over the file (default none, for reproducible runs). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Applied last (e.g. a benchmark's variant). */
  readonly overrides?: ConfigOverrides;
  /** Sets `model.seed` (weights; the detector's sampling uses seed + 1). */
  readonly seed?: number;
  /** `features.fields` to use when neither the file nor `env` sets them (tabular: the CSV's columns). */
  readonly fields?: readonly string[];
}

/** The loaded config and where it came from (a file path, or 'built-in defaults'). */
export interface EvaluationConfig {
  readonly config: AppConfig;
  readonly source: string;
}

/** Loads and validates the evaluation config (see the module comment for the precedence). */
export function loadEvaluationConfig(o: EvaluationConfigOptions): EvaluationConfig {
  if (o.seed !== undefined && (!Number.isSafeInteger(o.seed) || o.seed < 0)) {
    throw new InvalidOptionError(`seed must be an integer >= 0, got ${o.seed}`);
  }
  const env = o.env ?? {};
  const file = o.file ?? (existsSync(o.defaultFile) ? o.defaultFile : undefined);
  const raw = file === undefined ? undefined : readConfigFile(file);
  const fieldsSet =
    (raw?.features as { fields?: unknown } | undefined)?.fields !== undefined ||
    settingsFromEnv(env).some((s) => s.path.join('.') === 'features.fields');
  const fields = !fieldsSet && o.fields !== undefined ? { features: { fields: [...o.fields] } } : {};
  const config = loadConfig({
    file: file ?? '',
    env,
    overrides: mergeOverrides(
      file === undefined ? o.defaults : {},
      fields,
      o.overrides ?? {},
      o.seed === undefined ? {} : { model: { seed: o.seed } },
    ),
  });
  const { dir: _dir, file: _file, ...checkpoint } = config.checkpoint;
  return {
    config: { ...config, checkpoint: { ...checkpoint, reset: false } } as AppConfig,
    source: file ?? 'built-in defaults',
  };
}

/** Deep merge of plain objects, later wins; arrays are replaced. */
export function mergeOverrides(...parts: readonly ConfigOverrides[]): ConfigOverrides {
  const out: Record<string, unknown> = {};
  for (const part of parts) mergeInto(out, part as Record<string, unknown>);
  return out as ConfigOverrides;
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(source)) {
    if (v === undefined) continue;
    const t = target[k];
    if (isPlain(v) && isPlain(t)) mergeInto(t, v);
    else target[k] = isPlain(v) ? structuredClone(v) : v;
  }
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
