import { z } from 'zod';
import type { AppConfig } from '../config/schema.js';
import type { OnlineDetectorState } from '../detector/detector-state.js';
import type { KeyedDetectorState } from '../detector/keyed-detector.js';
import { modelFeatureNames } from '../detector/timeseries/index.js';

/** Where the input had been processed up to (per topic-partition), for resuming a replay. */
export interface CheckpointPosition {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to read (Kafka commit semantics: everything before it is done). */
  readonly commitOffset: string;
}

/** The settings a checkpoint only fits if they are unchanged. */
export interface CheckpointFingerprint {
  /** Model input features, in order (generated names in time-series mode). */
  readonly features: readonly string[];
  /** Flow architecture (`model` section without the seed). */
  readonly model: Readonly<Record<string, unknown>>;
  readonly perKey: boolean;
}

/**
 * A checkpoint file, `<dir>/checkpoint-<seq>.json`. Everything needed to continue exactly where the run
 * was: the global model (`detector`: flow weights and optimizer state as `serializeModel` writes them,
 * standardiser, threshold sketches, reservoir, RNG state and its event count), the live per-key models,
 * the input position, and opaque state of other components under `extensions` (e.g. drift, suppression).
 */
export interface CheckpointDocument {
  readonly format: 'flowsentinel.checkpoint';
  readonly version: 1;
  /** Increases by one per checkpoint written to the directory. */
  readonly sequence: number;
  /** Event time of the newest event processed (epoch ms); null before any. */
  readonly createdAt: number | null;
  /** Wall-clock time of writing, ISO 8601 (information only). */
  readonly writtenAt: string;
  /** Events the pipeline's detector has processed (all keys). */
  readonly eventsSeen: number;
  /** What `position` refers to, e.g. `replay:/abs/path.jsonl`; null when unknown. */
  readonly source: string | null;
  /** Everything before these offsets is done: scored or dead-lettered, outputs durable. */
  readonly position: readonly CheckpointPosition[];
  /**
   * Offsets after the last event the detector had processed. Between `position` and these, events are
   * in the model already; only dead letters may be missing from the outputs.
   */
  readonly processed: readonly CheckpointPosition[];
  readonly fingerprint: CheckpointFingerprint;
  /** The global model. */
  readonly detector: OnlineDetectorState;
  /** Live per-key models (evicted ones are in `<dir>/keys/`); null without per-key models. */
  readonly keys: KeyedDetectorState | null;
  readonly extensions: Readonly<Record<string, unknown>>;
}

const positionSchema = z.strictObject({
  topic: z.string(),
  partition: z.int().nonnegative(),
  commitOffset: z.string().regex(/^\d+$/),
});

/** Structural check of a checkpoint's envelope; the parts are validated by their own `setState`. */
export const checkpointEnvelopeSchema = z.looseObject({
  format: z.literal('flowsentinel.checkpoint'),
  version: z.literal(1),
  sequence: z.int().nonnegative(),
  createdAt: z.number().nullable(),
  eventsSeen: z.int().nonnegative(),
  source: z.string().nullable(),
  position: z.array(positionSchema),
  processed: z.array(positionSchema),
  fingerprint: z.strictObject({
    features: z.array(z.string()),
    model: z.record(z.string(), z.unknown()),
    perKey: z.boolean(),
  }),
  detector: z.unknown(),
  keys: z.unknown(),
  extensions: z.record(z.string(), z.unknown()),
});

/** Version and format problems are told apart from damage: they need another build, not another file. */
export function envelopeProblem(
  raw: unknown,
): { kind: 'format' | 'version' | 'shape'; message: string } | null {
  const r = raw as { format?: unknown; version?: unknown } | null;
  if (r === null || typeof r !== 'object' || r.format !== 'flowsentinel.checkpoint') {
    return { kind: 'format', message: 'it is not a flowsentinel checkpoint ("format" is missing or wrong)' };
  }
  if (r.version !== 1) {
    return {
      kind: 'version',
      message: `it has checkpoint format version ${JSON.stringify(r.version)}, this build reads version 1`,
    };
  }
  const parsed = checkpointEnvelopeSchema.safeParse(raw);
  return parsed.success
    ? null
    : { kind: 'shape', message: `it is malformed: ${z.prettifyError(parsed.error)}` };
}

/** The compatibility fingerprint of `config`. */
export function fingerprintOf(config: AppConfig): CheckpointFingerprint {
  const { seed: _seed, ...model } = config.model;
  return { features: modelFeatureNames(config), model: { ...model }, perKey: config.perKey.enabled };
}

/** Differences between a checkpoint's fingerprint and the current config's, one line each. */
export function fingerprintDifferences(saved: CheckpointFingerprint, now: CheckpointFingerprint): string[] {
  const out: string[] = [];
  if (JSON.stringify(saved.features) !== JSON.stringify(now.features)) {
    out.push(
      `features ${JSON.stringify(saved.features)} in the checkpoint, ${JSON.stringify(now.features)} configured`,
    );
  }
  const keys = new Set([...Object.keys(saved.model), ...Object.keys(now.model)]);
  for (const k of [...keys].sort()) {
    if (JSON.stringify(saved.model[k]) !== JSON.stringify(now.model[k])) {
      out.push(
        `model.${k} ${JSON.stringify(saved.model[k])} in the checkpoint, ${JSON.stringify(now.model[k])} configured`,
      );
    }
  }
  if (saved.perKey !== now.perKey) {
    out.push(`perKey.enabled ${saved.perKey} in the checkpoint, ${now.perKey} configured`);
  }
  return out;
}
