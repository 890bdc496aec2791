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
