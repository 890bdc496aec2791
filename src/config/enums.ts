/**
 * The config's own enumerations; the detector's options are typed from them, so the config never reads
 * the detector.
 */

/** What happens after a drift is confirmed (see `DriftMonitor`). */
export const DRIFT_POLICIES = ['reset-reference', 'keep'] as const;
export type DriftPolicy = (typeof DRIFT_POLICIES)[number];

/** `episode`: one alert per burst of a key; `interval`: at most one alert per key per interval. */
export const SUPPRESSION_MODES = ['episode', 'interval'] as const;
export type SuppressionMode = (typeof SUPPRESSION_MODES)[number];

/** Compute backends, as in `src/flow/backend.ts` (kept literal here so config loads without tfjs). */
export const CONFIG_BACKENDS = ['auto', 'wasm', 'cpu', 'tensorflow'] as const;
export const MODEL_TYPES = ['realnvp', 'maf', 'spline', 'mixture-cdf', 'mixture-coupling'] as const;

/** `model.marginal`: the mixture-CDF components' family. */
export const MIXTURE_MARGINALS = ['gaussian', 'logistic'] as const;
/** `model.score`: what an event's score is (as `SCORE_KINDS` in src/flow/types.ts). */
export const MODEL_SCORES = ['density', 'latent'] as const;
/** Flow engines, as in `src/flow/fused/engine.ts` (literal here so config loads without tfjs). */
export const MODEL_ENGINES = ['fused', 'autodiff'] as const;
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
