/** Config sections of the running job: Kafka, replay, drift, suppression, demo, time series, explanations, checkpoints, per-key models. */
import { z } from 'zod';
import { DRIFT_POLICIES, SASL_MECHANISMS, SUPPRESSION_MODES } from './enums.js';
import { int, nonEmpty } from './schema-common.js';

/** Default `kafka.pauseAfterMs`, ms; chosen with `npm run bench:kafka` (docs/kafka.md "Backpressure"). */
export const DEFAULT_PAUSE_AFTER_MS = 500;

/** Default `kafka.writesInFlight`; chosen with `npm run bench:kafka` (docs/kafka.md "Output writes overlap scoring"). */
export const DEFAULT_WRITES_IN_FLIGHT = 1;

export const brokerSchema = z.string().regex(/^[^\s:,]+:\d{1,5}$/, { message: 'must be host:port' });

export const saslSchema = z
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

export const kafkaSchema = z.strictObject({
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
  /**
   * How long the broker may stay unreachable (no successful request) before `run` gives up and exits
   * non-zero so the orchestrator restarts it, ms. Connection errors are retried until then.
   */
  outageToleranceMs: int(1000).default(600_000),
  /**
   * How long the consumer waits for pipeline credit inside a fetched batch before it pauses fetching, ms
   * (0 = pause at once). Pausing costs a `maxWaitTimeMs` (500 ms) fetch sleep after the resume.
   */
  pauseAfterMs: int(0).default(DEFAULT_PAUSE_AFTER_MS),
  /**
   * Micro-batches whose outputs may still be waiting for the broker's acknowledgement while the next
   * batch is scored (0 = write and acknowledge each batch before scoring the next). Commits still wait
   * for every earlier output. At most 8 (`runPipeline`'s limit).
   */
  writesInFlight: int(0, 8).default(DEFAULT_WRITES_IN_FLIGHT),
});

export const replaySchema = z.strictObject({
  /** JSON-lines file of records to replay instead of consuming Kafka. */
  input: nonEmpty.optional(),
  /** Directory `flowsentinel replay` writes anomalies.jsonl, scores.jsonl and dead-letters.jsonl to. */
  output: nonEmpty.optional(),
  /**
   * Replay speed: `max` = as fast as possible (batches cut by count only: reproducible), or a factor
   * relative to event time (1 = recorded pace, k = k× faster). 0 is rejected: it used to mean `max`.
   */
  speed: z
    .union([z.literal('max'), z.number()])
    .default('max')
    .superRefine((v, ctx) => {
      if (typeof v === 'number' && !(v > 0 && Number.isFinite(v))) {
        const message =
          v === 0
            ? "0 is not a speed: use 'max' to replay as fast as possible"
            : "must be 'max' or a finite number > 0 (1 = recorded pace)";
        ctx.addIssue({ code: 'custom', message });
      }
    }),
});

export const driftSchema = z.strictObject({
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

export const suppressionSchema = z.strictObject({
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

export const demoDriftSchema = z
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

export const demoSchema = z.strictObject({
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

export const timeseriesSchema = z.strictObject({
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
  /**
   * Conditional mode (src/detector/timeseries/conditional.ts): score −log p(x_t | context), the last
   * `lags` steps and the distance from a slow mean as context, with a mixture density conditioner, instead
   * of the flow's joint density of the lag vector. Needs scoring.enabled; not checkpointed.
   */
  conditional: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Hidden tanh units of the conditioner. */
      hidden: int(1).default(24),
      /** Gaussian components of the conditional density. */
      components: int(1).default(3),
    })
    .prefault({}),
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
      /** Conditional mode, score pvalue: the p-value is of the mean of the last `average` surprises. */
      average: int(1).default(1),
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

export const explainSchema = z.strictObject({
  /** Attach the top contributing features to each anomaly. */
  enabled: z.boolean().default(true),
  /** Contributions per anomaly, largest share first. */
  topK: int(1, 256).default(3),
  /** Flow samples behind each model version's typical ranges (1st–99th percentiles). */
  samples: int(100, 1_000_000).default(1024),
  /** Model versions a quantile estimate is reused for before an anomaly re-estimates it (1 = every version). */
  refreshVersions: int(1).default(32),
});

export const checkpointSchema = z
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

export const perKeySchema = z.strictObject({
  /** One model per entity key (`features.keyField` or the record key); events without a key use the global model. */
  enabled: z.boolean().default(false),
  /** Live per-key models; the least recently used one beyond this is saved to `<checkpoint.dir>/keys` and freed. */
  maxKeys: int(1, 1_000_000).default(100),
  /** What a new key starts from: 'global' (the global model, trained on all traffic) or 'initial' (fresh weights). */
  base: z.enum(['global', 'initial']).default('global'),
  /** Replay reservoir rows per key model (the global model keeps training.replayReservoir.size). */
  reservoirSize: int(0).default(1000),
  /** Events a key must have before it gets its own model; until then the global model scores it (0 = at once). */
  minEvents: int(0).default(200),
  /** A key model takes its optimizer steps once per this many of its events (1 = every batch, as the global model); default = one step per 256 own events. */
  trainEvery: int(1).default(256),
  /** Saved (evicted) models kept in `<checkpoint.dir>/keys` at most; the oldest saved are deleted beyond it. */
  maxSaved: int(1).default(1000),
  /** Saved models older than this are deleted, ms (0 = no age limit). Default 7 days. */
  savedTtlMs: int(0).default(604_800_000),
});
