import { z } from 'zod';
import { DRIFT_POLICIES } from '../detector/drift.js';
import { SUPPRESSION_MODES } from '../detector/suppression.js';
import { adaptiveOptionProblems } from '../detector/thresholds/adaptive.js';
import { LOG_LEVELS } from '../logging.js';

/**
 * The whole application configuration as one zod schema with defaults. Every object is strict, so a
 * misspelt key (in the file, an environment variable or a flag) is an error rather than silently ignored.
 * `config/flowsentinel.example.yaml` documents every key.
 */

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.int().min(min).max(max);
const nonEmpty = z.string().min(1);

/** Compute backends, as in `src/flow/backend.ts` (kept literal here so config loads without tfjs). */
export const CONFIG_BACKENDS = ['auto', 'wasm', 'cpu', 'tensorflow'] as const;
export const MODEL_TYPES = ['realnvp', 'maf', 'spline', 'mixture-cdf'] as const;
/** Flow engines, as in `src/flow/fused/engine.ts` (literal here so config loads without tfjs). */
export const MODEL_ENGINES = ['fused', 'autodiff'] as const;
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

const featuresSchema = z
  .strictObject({
    /** JSON field paths (dot-separated) read as features, in model input order. */
    fields: z.array(nonEmpty).min(1),
    /** Field whose value keys the event (entity id); default: the Kafka record key. */
    keyField: nonEmpty.optional(),
    /** Records larger than this are dead-lettered as 'oversize', bytes. */
    maxRecordBytes: int(1).default(1_048_576),
  })
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.fields.forEach((name, i) => {
      if (seen.has(name)) {
        ctx.addIssue({ code: 'custom', path: ['fields', i], message: `duplicate feature "${name}"` });
      }
      seen.add(name);
    });
  });

const modelSchema = z.strictObject({
  type: z.enum(MODEL_TYPES).default('realnvp'),
  /** Flow layers (coupling/autoregressive blocks). */
  layers: int(1, 64).default(6),
  /** Hidden units of each conditioner network. */
  hidden: int(1, 4096).default(64),
  /** Spline bins (spline). */
  bins: int(2, 256).default(8),
  /** Spline tail bound B: the spline acts on [−B, B], identity outside (standardised units). */
  bound: z.number().positive().default(5),
  /** Mixture components (mixture-cdf). */
  components: int(1, 256).default(8),
  /** Seed of weight initialisation and sampling. */
  seed: int(0).default(42),
  /**
   * Training and scoring path: `fused` (host optimizer; folded weights, fused kernels and a hand-written
   * backward pass for supported flows) or `autodiff` (the tfjs autodiff reference path).
   */
  engine: z.enum(MODEL_ENGINES).default('fused'),
});

const trainingSchema = z.strictObject({
  /** Optimizer steps after each micro-batch (0 = score only). */
  stepsPerBatch: int(0, 1000).default(1),
  learningRate: z.number().positive().max(1).default(0.001),
  /** Decoupled (AdamW-style) weight decay per step. */
  weightDecay: z.number().min(0).max(1).default(0),
  /** Global gradient-norm clip. */
  clipNorm: z.number().positive().default(5),
  /** Rows per optimizer step (new events plus replayed ones). */
  batchSize: int(1, 65536).default(256),
  replayReservoir: z
    .strictObject({
      /** Normal events kept for replay (uniform reservoir sample); 0 disables replay. */
      size: int(0).default(10_000),
      /** Fraction of each training batch drawn from the reservoir. */
      fraction: z.number().min(0).max(1).default(0.5),
    })
    .prefault({}),
  /** Train on events flagged anomalous too (default false: anomalies would be learned as normal). */
  trainOnAnomalies: z.boolean().default(false),
});

const standardiserSchema = z.strictObject({
  /** 'freeze': statistics from warm-up then fixed; 'ema': exponentially weighted forever. */
  mode: z.enum(['freeze', 'ema']).default('freeze'),
  /** EMA weight of each new event (mode 'ema'). */
  emaAlpha: z.number().gt(0).lt(1).default(0.001),
  /** Floor on each feature's σ, feature units. */
  minStd: z.number().positive().default(1e-6),
});

function refineAdaptive<K extends 'quantile' | 'alpha'>(rateName: K) {
  return (
    t: { window: number; minObservations?: number | undefined } & Record<K, number>,
    ctx: z.RefinementCtx,
  ): void => {
    for (const p of adaptiveOptionProblems(rateName, t[rateName], t)) {
      ctx.addIssue({ code: 'custom', path: [p.option], message: p.message, params: { allowed: p.allowed } });
    }
  };
}

const thresholdSchema = z
  .discriminatedUnion('policy', [
    z.strictObject({
      policy: z.literal('static'),
      /** Alert when log p(x) < this, nats. */
      logLikelihood: z.number(),
      /** Softness of the anomaly score, nats. */
      scale: z.number().positive().default(1),
    }),
    z
      .strictObject({
        policy: z.literal('quantile'),
        quantile: z.number().gt(0).max(0.5).default(0.001),
        window: int(4).default(20_000),
        minObservations: int(1).optional(),
      })
      .superRefine(refineAdaptive('quantile')),
    z
      .strictObject({
        policy: z.literal('pvalue'),
        alpha: z.number().gt(0).max(0.5).default(0.001),
        window: int(4).default(20_000),
        minObservations: int(1).optional(),
      })
      .superRefine(refineAdaptive('alpha')),
  ])
  .prefault({ policy: 'quantile' });

const batchingSchema = z
  .strictObject({
    /** Most events per micro-batch. */
    maxSize: int(1, 100_000).default(256),
    /** Longest wait to fill a micro-batch, ms. */
    maxWaitMs: int(0, 60_000).default(100),
    /** Buffered events at which the source is paused (backpressure). */
    highWaterMark: int(1).default(1024),
  })
  .superRefine((b, ctx) => {
    if (b.highWaterMark < b.maxSize) {
      ctx.addIssue({
        code: 'custom',
        path: ['highWaterMark'],
        message: `must be >= batching.maxSize (${b.maxSize})`,
        params: { allowed: `integer >= ${b.maxSize}` },
      });
    }
  });

const brokerSchema = z.string().regex(/^[^\s:,]+:\d{1,5}$/, { message: 'must be host:port' });

const saslSchema = z
  .strictObject({
    mechanism: z.enum(SASL_MECHANISMS),
    username: nonEmpty,
    /** Secret. Prefer passwordFile (e.g. a mounted Kubernetes secret). */
    password: nonEmpty.optional(),
    /** Path of a file holding the password (trailing newline ignored by the reader). */
    passwordFile: nonEmpty.optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.password === undefined) === (s.passwordFile === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['password'],
        message: 'set exactly one of password or passwordFile',
        params: { allowed: 'password or passwordFile, not both' },
      });
    }
  });

const kafkaSchema = z.strictObject({
  brokers: z.array(brokerSchema).min(1).default(['localhost:9092']),
  clientId: nonEmpty.default('flowsentinel'),
  groupId: nonEmpty.default('flowsentinel'),
  topics: z.array(nonEmpty).min(1).default(['flowsentinel.events']),
  /** Where a group without committed offsets starts; 'committed' resumes and falls back to latest. */
  start: z.enum(['earliest', 'latest', 'committed']).default('committed'),
  outputs: z
    .strictObject({
      anomalies: nonEmpty.default('flowsentinel.anomalies'),
      /** Every scored event (optional; high volume). */
      scores: nonEmpty.optional(),
      deadLetters: nonEmpty.default('flowsentinel.dead-letters'),
      drift: nonEmpty.default('flowsentinel.drift'),
    })
    .prefault({}),
  /** TLS; present (even `{}`) means enabled. ca/cert/key: PEM text or a path to a PEM file. */
  ssl: z
    .strictObject({
      ca: nonEmpty.optional(),
      cert: nonEmpty.optional(),
      /** Secret. */
      key: nonEmpty.optional(),
      rejectUnauthorized: z.boolean().default(true),
    })
    .optional(),
  sasl: saslSchema.optional(),
});

const replaySchema = z.strictObject({
  /** JSON-lines file of records to replay instead of consuming Kafka. */
  input: nonEmpty.optional(),
  /** Directory `flowsentinel replay` writes anomalies.jsonl, scores.jsonl and dead-letters.jsonl to. */
  output: nonEmpty.optional(),
  /** Replay speed relative to event time (1 = real time); 0 = as fast as possible. */
  speed: z.number().min(0).default(0),
});

const driftSchema = z.strictObject({
  /** Watch the windowed mean log-likelihood for density drift (metrics and drift events). */
  enabled: z.boolean().default(true),
  /** Scored events in the sliding window compared with the reference. */
  window: int(1).default(1000),
  /** Scored (non-warming) events right after warm-up, or after a reset, that form the reference. */
  referenceEvents: int(2).default(2000),
  /** Drift score that counts as drifted: the window mean's drop in reference standard deviations. */
  level: z.number().positive().default(0.3),
  /** Event time the score must stay at or above the level to confirm a drift (below it to end one), ms. */
  forMs: int(0).default(600_000),
  /** After a confirmed drift: re-measure the reference once the model adapted, or keep it. */
  afterConfirmed: z.enum(DRIFT_POLICIES).default('reset-reference'),
});

const suppressionSchema = z.strictObject({
  /** Suppress repeated alerts of one key (they still reach the scores sink, with their episode). */
  enabled: z.boolean().default(false),
  /** 'episode': one alert per burst; 'interval': at most one alert per minIntervalMs. */
  mode: z.enum(SUPPRESSION_MODES).default('episode'),
  /** Episode mode: event time without an anomaly of the key that ends its episode, ms. */
  quietMs: int(0).default(300_000),
  /** Interval mode: least event time between two alerts of one key, ms. */
  minIntervalMs: int(0).default(3_600_000),
  /** Most keys tracked at once; beyond it the least recently active are forgotten. */
  maxKeys: int(1).default(100_000),
});

const demoDriftSchema = z
  .strictObject({
    /** Mean shift of every feature, in marginal standard deviations; 0 = no drift episode. */
    shiftSigma: z.number().default(0.75),
    /** Where the episode starts, as a fraction of demo.events. */
    startFraction: z
      .number()
      .min(0)
      .max(1)
      .default(2 / 3),
    /** Where it ends (exclusive), as a fraction of demo.events. */
    endFraction: z.number().min(0).max(1).default(0.85),
    /** Events over which the shift ramps up from 0 (0 = abrupt). */
    rampEvents: int(0).default(0),
  })
  .superRefine((d, ctx) => {
    if (d.endFraction <= d.startFraction) {
      ctx.addIssue({
        code: 'custom',
        path: ['endFraction'],
        message: `must be > startFraction (${d.startFraction})`,
        params: { allowed: `number in (${d.startFraction}, 1]` },
      });
    }
  });

const demoSchema = z.strictObject({
  /** Synthetic events to generate. */
  events: int(1).default(20_000),
  /** Fraction of injected anomalies. */
  anomalyRate: z.number().min(0).max(0.5).default(0.01),
  /** Seed of the synthetic stream. */
  seed: int(0).default(7),
  /** HTML report path. */
  report: nonEmpty.default('flowsentinel-report.html'),
  /** The drift episode of the demo stream. */
  drift: demoDriftSchema.prefault({}),
});

const timeseriesSchema = z.strictObject({
  /** Univariate time-series mode: features.fields names one value; vectors come from its recent history. */
  enabled: z.boolean().default(false),
  /** Values of the key's series per vector, the current one included. */
  lags: int(2, 512).default(8),
  /** Encode the history as successive differences (x_t − x_{t−1}, …) after the current value. */
  differences: z.boolean().default(true),
  /** Append time-of-day (sin, cos), UTC; warm-up should span a day. */
  timeOfDay: z.boolean().default(false),
  /** Append day-of-week (sin, cos), UTC; warm-up should span a week. */
  dayOfWeek: z.boolean().default(false),
  /** Series histories kept; the least recently seen key beyond it starts over. */
  maxKeys: int(1).default(10_000),
  /** Per-series scoring of the detector's outputs (src/detector/series-scorer.ts). */
  scoring: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** pvalue: the detector's anomalyScore (1 − p); likelihood: HTM-style anomaly likelihood of −log p. */
      score: z.enum(['pvalue', 'likelihood']).default('pvalue'),
      /** A value beyond the range seen so far by this fraction of the range scores 1; negative = off. */
      rangeTolerance: z.number().default(0.02),
      /** anomalyScore at or above which a scored event is an anomaly. */
      threshold: z.number().min(0).max(1).default(0.999),
      /** score: likelihood only. Raw scores averaged into the short-term score. */
      averagingWindow: int(1).default(10),
      historyEvents: int(2).default(8640),
      learningEvents: int(0).default(150),
      estimationEvents: int(2).default(150),
      /** Floor of the long-term standard deviation of −log p, nats. */
      minStd: z.number().positive().default(0.01),
    })
    .prefault({}),
});

const explainSchema = z.strictObject({
  /** Attach the top contributing features to each anomaly. */
  enabled: z.boolean().default(true),
  /** Contributions per anomaly, largest share first. */
  topK: int(1, 256).default(3),
  /** Flow samples behind each model version's typical ranges (1st–99th percentiles). */
  samples: int(100, 1_000_000).default(1024),
  /** Model versions a quantile estimate is reused for before an anomaly re-estimates it (1 = every version). */
  refreshVersions: int(1).default(32),
});

const checkpointSchema = z
  .strictObject({
    /** Directory of `checkpoint-<seq>.json` files and `keys/` (evicted per-key models); unset = off. */
    dir: nonEmpty.optional(),
    /** Write a checkpoint once this many more events were processed (0 = not by count). */
    everyEvents: int(0).default(50_000),
    /** Write a checkpoint once this much wall time passed since the last one, ms (0 = not by time). */
    everyMs: int(0).default(300_000),
    /** Newest good checkpoints kept; older ones are deleted after each successful write. */
    keep: int(1, 1000).default(2),
    /** Start fresh: ignore existing checkpoints and delete `<dir>/keys` (flag --reset-model). */
    reset: z.boolean().default(false),
    /** Load this checkpoint instead of the newest in `dir` (flag --checkpoint); `dir` defaults to its folder. */
    file: nonEmpty.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.reset && c.file !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['reset'],
        message: 'reset (--reset-model) and file (--checkpoint) exclude each other',
        params: { allowed: 'reset: false when file is set' },
      });
    }
  });

const perKeySchema = z.strictObject({
  /** One model per entity key (`features.keyField` or the record key); events without a key use the global model. */
  enabled: z.boolean().default(false),
  /** Live per-key models; the least recently used one beyond this is saved to `<checkpoint.dir>/keys` and freed. */
  maxKeys: int(1, 1_000_000).default(100),
  /** What a new key starts from: 'global' (the global model, trained on all traffic) or 'initial' (fresh weights). */
  base: z.enum(['global', 'initial']).default('global'),
  /** Replay reservoir rows per key model (the global model keeps training.replayReservoir.size). */
  reservoirSize: int(0).default(1000),
});

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
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
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
