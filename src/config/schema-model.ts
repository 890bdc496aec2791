/** Config sections of the data and the model: features, model, training, standardiser, threshold, batching. */
import { z } from 'zod';
import { DEFAULT_CLIP_NORM, DEFAULT_WEIGHT_DECAY } from '../core/training-defaults.js';
import { MIXTURE_MARGINALS, MODEL_ENGINES, MODEL_SCORES, MODEL_TYPES } from './enums.js';
import { int, nonEmpty } from './schema-common.js';
import { adaptiveOptionProblems } from './threshold-rules.js';

export const featuresSchema = z
  .strictObject({
    /** JSON field paths (dot-separated) read as features, in model input order. */
    fields: z.array(nonEmpty).min(1),
    /** Field whose value keys the event (entity id); default: the Kafka record key. */
    keyField: nonEmpty.optional(),
    /** Records larger than this are dead-lettered as 'oversize', bytes. */
    maxRecordBytes: int(1).default(1_048_576),
    /** Record keys and keyField values longer than this are dead-lettered as 'oversize_key', bytes. */
    maxKeyBytes: int(1).default(1024),
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

export const modelSchema = z
  .strictObject({
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
    /**
     * The mixture components' family (mixture-cdf, mixture-coupling): `gaussian` (far-tail −log p ≈ t²/2 per
     * feature) or `logistic` (≈ |t|: heavier tails, so one extreme feature outweighs the others less).
     * Absent means `gaussian`.
     */
    marginal: z.enum(MIXTURE_MARGINALS).optional(),
    /**
     * What an event's score (its `logLikelihood`, read by the threshold, drift and explanations) is:
     * `density`, log p(x) (default), or `latent`, log p_prior(f(x)) of the standardised row, the
     * log-determinants left out: how far into the prior's tails the row's latent lies (docs/detector.md,
     * "The score"). Training is the same either way. Absent means `density` (so existing configs resolve,
     * and hash, as before).
     */
    score: z.enum(MODEL_SCORES).optional(),
    /** Seed of weight initialisation and sampling. */
    seed: int(0).default(42),
    /**
     * Training and scoring path: `fused` (host optimizer; folded weights, fused kernels and a hand-written
     * backward pass for supported flows) or `autodiff` (the tfjs autodiff reference path).
     */
    engine: z.enum(MODEL_ENGINES).default('fused'),
  })
  .superRefine((m, ctx) => {
    if (m.marginal !== undefined && m.type !== 'mixture-cdf' && m.type !== 'mixture-coupling') {
      ctx.addIssue({
        code: 'custom',
        path: ['marginal'],
        message: `applies to model.type mixture-cdf and mixture-coupling only (type is ${m.type}); remove it or change the type`,
        params: { allowed: 'absent unless model.type is mixture-cdf or mixture-coupling' },
      });
    }
  });

export const trainingSchema = z
  .strictObject({
    /** Optimizer steps after each micro-batch (0 = score only). */
    stepsPerBatch: int(0, 1000).default(1),
    learningRate: z.number().positive().max(1).default(0.001),
    /** Decoupled (AdamW-style) weight decay per step. */
    weightDecay: z.number().min(0).max(1).default(DEFAULT_WEIGHT_DECAY),
    /** Global gradient-norm clip. */
    clipNorm: z.number().positive().default(DEFAULT_CLIP_NORM),
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
    /** Scored rows whose tail p-value (1 − anomalyScore) is below this are not learned (0 = off). */
    trimTail: z.number().min(0).max(0.5).default(0),
    /** 'auto': uniform training noise on features detected as discrete (integer grids, point masses); 'off'. */
    dequantise: z.enum(['auto', 'off']).default('off'),
    /** Largest share of the batches due for training that train, in (0, 1]; spread evenly, deterministic. */
    maxLearnFraction: z.number().gt(0).max(1).default(1),
    budget: z
      .strictObject({
        /** Live sources (Kafka, paced replays): halve the learned share while records queue up. */
        enabled: z.boolean().default(true),
        /** The adaptive share never goes below this, in (0, 1] and ≤ maxLearnFraction. */
        minLearnFraction: z.number().gt(0).max(1).default(0.1),
      })
      .prefault({}),
  })
  .superRefine((t, ctx) => {
    if (t.budget.minLearnFraction > t.maxLearnFraction) {
      ctx.addIssue({
        code: 'custom',
        path: ['budget', 'minLearnFraction'],
        message: `must be <= training.maxLearnFraction (${t.maxLearnFraction}); lower it or raise maxLearnFraction`,
        params: { allowed: `number > 0 and <= ${t.maxLearnFraction}` },
      });
    }
  });

const boundSchema = z
  .strictObject({ min: z.number().optional(), max: z.number().optional() })
  .refine((b) => b.min === undefined || b.max === undefined || b.min < b.max, {
    message: 'min must be below max',
  });

export const standardiserSchema = z.strictObject({
  /** 'freeze': statistics from warm-up then fixed; 'ema': exponentially weighted forever. */
  mode: z.enum(['freeze', 'ema']).default('freeze'),
  /** EMA weight of each new event (mode 'ema'). */
  emaAlpha: z.number().gt(0).lt(1).default(0.001),
  /** Floor on each feature's σ, feature units. */
  minStd: z.number().positive().default(1e-6),
  /** After the robust start (median/MAD of the first 128 events), deviations beyond clip·σ are clipped before they update μ and σ. */
  clip: z.number().min(1).default(8),
  /** Per model feature: values outside [min, max] are clamped to it before the standardiser learns from them (scored raw). */
  bounds: z.record(nonEmpty, boundSchema).default({}),
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

export const thresholdSchema = z
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
        /** What the quantile bounds: 'normal' = false alarms among normal events; 'all' = every alert. */
        budget: z.enum(['normal', 'all']).default('normal'),
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

export const batchingSchema = z
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
