import { z } from 'zod';
import { LOG_FORMATS, LOG_LEVELS } from '../log-names.js';
import { CONFIG_BACKENDS } from './enums.js';
import { int, nonEmpty } from './schema-common.js';
import {
  batchingSchema,
  featuresSchema,
  modelSchema,
  standardiserSchema,
  thresholdSchema,
  trainingSchema,
} from './schema-model.js';
import {
  checkpointSchema,
  demoSchema,
  driftSchema,
  explainSchema,
  kafkaSchema,
  perKeySchema,
  replaySchema,
  suppressionSchema,
  timeseriesSchema,
} from './schema-run.js';

export { CONFIG_BACKENDS, MODEL_ENGINES, MODEL_TYPES, SASL_MECHANISMS } from './enums.js';

/**
 * The whole application configuration as one zod schema with defaults. Every object is strict, so a
 * misspelt key (in the file, an environment variable or a flag) is an error rather than silently ignored.
 * `config/flowsentinel.example.yaml` documents every key.
 */

/** Schema of the application config; `z.input` is what files/env/flags provide, `z.output` is `AppConfig`. */
export const appConfigSchema = z.strictObject({
  backend: z.enum(CONFIG_BACKENDS).default('auto'),
  features: featuresSchema,
  model: modelSchema.prefault({}),
  timeseries: timeseriesSchema.prefault({}),
  explain: explainSchema.prefault({}),
  training: trainingSchema.prefault({}),
  standardiser: standardiserSchema.prefault({}),
  warmup: z
    .strictObject({
      /** Events used to fit the standardiser and train before anything alerts. */
      events: int(0).default(2000),
    })
    .prefault({}),
  threshold: thresholdSchema,
  drift: driftSchema.prefault({}),
  suppression: suppressionSchema.prefault({}),
  batching: batchingSchema.prefault({}),
  health: z
    .strictObject({
      /**
       * /readyz turns 503 (and flowsentinel_stalled 1) once the broker has been unreachable, or an output
       * write unacknowledged, for longer than this, ms.
       */
      stallMs: int(100).default(30_000),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      port: int(0, 65535).default(9464),
      host: nonEmpty.default('0.0.0.0'),
    })
    .prefault({}),
  kafka: kafkaSchema.prefault({}),
  perKey: perKeySchema.prefault({}),
  checkpoint: checkpointSchema.prefault({}),
  replay: replaySchema.prefault({}),
  demo: demoSchema.prefault({}),
  log: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info'),
      /** json | pretty; unset: pretty when stderr is a terminal, else json. */
      format: z.enum(LOG_FORMATS).optional(),
    })
    .prefault({}),
  shutdown: z
    .strictObject({
      /** Longest graceful drain (finish batch, commit, flush) before exiting, ms. */
      timeoutMs: int(0, 600_000).default(10_000),
    })
    .prefault({}),
});

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** Validated, defaulted and frozen application config. */
export type AppConfig = DeepReadonly<z.output<typeof appConfigSchema>>;
/** What a config file may contain (everything but features.fields is optional). */
export type AppConfigInput = z.input<typeof appConfigSchema>;
export type ThresholdConfig = AppConfig['threshold'];
export type KafkaConfig = AppConfig['kafka'];
export type ModelConfig = AppConfig['model'];
export type TrainingConfig = AppConfig['training'];

/** Key paths whose values are secrets: never logged, never echoed in errors. */
export const SECRET_PATHS: ReadonlyArray<readonly string[]> = [
  ['kafka', 'sasl', 'password'],
  ['kafka', 'ssl', 'key'],
];
