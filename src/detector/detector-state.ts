import { z } from 'zod';
import { createRng, type Rng } from '../core/rng.js';
import { SerializationError } from '../errors.js';
import { NormalizingFlow } from '../flow/normalizing-flow.js';
import { reviveModule } from '../flow/registry.js';
import type { ModelDocument } from '../flow/serialization.js';
import type { Trainer } from '../flow/trainer.js';
import type { ExplainCacheState, Explainer } from './explain.js';
import type { Reservoir } from './reservoir.js';
import type { Standardiser, StandardiserState } from './standardiser.js';
import type { ThresholdPolicy, ThresholdState } from './thresholds/types.js';

/** JSON form of a `Reservoir`. */
export type ReservoirState = ReturnType<Reservoir['getState']>;

/**
 * JSON state of an `OnlineDetector`: everything that determines its future outputs. `model` is the
 * document `serializeModel(flow, trainer)` writes (weights and optimizer moments, exact float32 bytes).
 */
export interface OnlineDetectorState {
  readonly format: 'flowsentinel.detector';
  readonly version: 1;
  /** Events processed so far (decides warm-up). */
  readonly eventsSeen: number;
  readonly model: ModelDocument;
  readonly standardiser: StandardiserState;
  readonly threshold: ThresholdState;
  /** Null when the detector has no replay reservoir. */
  readonly reservoir: ReservoirState | null;
  /** `Rng.getState()` of the minibatch/reservoir random source. */
  readonly rng: number[];
  /** The explainer's cached model quantiles (absent in older checkpoints and without an explainer). */
  readonly explain?: ExplainCacheState | null;
}

/** The parts a state is captured from. */
export interface DetectorStateParts {
  readonly flow: NormalizingFlow;
  readonly trainer: Trainer;
  readonly standardiser: Standardiser;
  readonly threshold: ThresholdPolicy;
  readonly reservoir: Reservoir | undefined;
  readonly rng: Rng;
  readonly explainer?: Explainer | undefined;
}

const int32 = z
  .int()
  .min(-(2 ** 31))
  .max(2 ** 31 - 1);

const headerSchema = z.object({
  format: z.literal('flowsentinel.detector'),
  version: z.literal(1),
  eventsSeen: z.int().nonnegative(),
  model: z.looseObject({
    format: z.literal('flowsentinel.model'),
    version: z.literal(1),
    flow: z.unknown(),
    trainer: z.unknown(),
  }),
  standardiser: z.unknown(),
  threshold: z.unknown(),
  reservoir: z
    .strictObject({
      capacity: z.int().nonnegative(),
      dim: z.int().positive(),
      count: z.int().nonnegative(),
      seen: z.int().nonnegative(),
      rows: z.array(z.number()),
    })
    .nullable(),
  rng: z.array(int32).length(4),
  explain: z
    .strictObject({ modelVersion: z.int(), values: z.array(z.number()) })
    .nullable()
    .optional(),
});

/** Snapshot of `parts` (reads every weight back once). */
export function captureState(parts: DetectorStateParts, eventsSeen: number): OnlineDetectorState {
  return {
    format: 'flowsentinel.detector',
    version: 1,
    eventsSeen,
    model: {
      format: 'flowsentinel.model',
      version: 1,
      flow: parts.flow.toJSON(),
      trainer: parts.trainer.getState(),
    },
    standardiser: parts.standardiser.getState(),
    threshold: parts.threshold.getState(),
    reservoir: parts.reservoir ? parts.reservoir.getState() : null,
    rng: parts.rng.getState(),
    ...(parts.explainer ? { explain: parts.explainer.getCache() } : {}),
  };
}

/** What `restoreState` needs of the live detector. */
export interface RestoreTargets {
  readonly dim: number;
  readonly createTrainer: (flow: NormalizingFlow) => Trainer;
  readonly standardiser: Standardiser;
  readonly threshold: ThresholdPolicy;
  readonly reservoir: Reservoir | undefined;
}

/** The parts `restoreState` creates; the caller swaps them in (and owns them). */
export interface RestoredParts {
  readonly flow: NormalizingFlow;
  readonly trainer: Trainer;
  readonly rng: Rng;
  readonly eventsSeen: number;
  readonly explain: ExplainCacheState | null | undefined;
}

/**
 * Validates `state`, builds a new flow and trainer from it and restores the standardiser, threshold and
 * reservoir in place. All or nothing: on error (`SerializationError`) every in-place part is rolled back
 * and the new tensors are freed.
 */
export function restoreState(state: unknown, t: RestoreTargets): RestoredParts {
  const parsed = headerSchema.safeParse(state);
  if (!parsed.success) {
    throw new SerializationError(`invalid detector state: ${z.prettifyError(parsed.error)}`);
  }
  const s = parsed.data;
  const { flow, trainer } = asSerializationError(() => reviveModel(s.model, t));
  const undo = {
    standardiser: t.standardiser.getState(),
    threshold: t.threshold.getState(),
    reservoir: t.reservoir?.getState(),
  };
  try {
    t.standardiser.setState(s.standardiser);
    t.threshold.setState(s.threshold);
    restoreReservoir(t.reservoir, s.reservoir);
  } catch (err) {
    t.standardiser.setState(undo.standardiser);
    t.threshold.setState(undo.threshold);
    if (undo.reservoir !== undefined) t.reservoir?.setState(undo.reservoir);
    trainer.dispose();
    flow.dispose();
    throw toSerializationError(err);
  }
  return { flow, trainer, rng: createRng(s.rng), eventsSeen: s.eventsSeen, explain: s.explain };
}

function toSerializationError(err: unknown): SerializationError {
  if (err instanceof SerializationError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SerializationError(`invalid detector state: ${message}`, { cause: err });
}

function asSerializationError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toSerializationError(err);
  }
}

function reviveModel(
  model: { flow: unknown; trainer: unknown },
  t: RestoreTargets,
): { flow: NormalizingFlow; trainer: Trainer } {
  const flow = NormalizingFlow.fromJSON(model.flow, reviveModule);
  let trainer: Trainer | undefined;
  try {
    if (flow.dim !== t.dim) {
      throw new SerializationError(
        `the saved model has ${flow.dim} features but ${t.dim} are configured; the feature list changed`,
        { context: { saved: flow.dim, configured: t.dim } },
      );
    }
    trainer = t.createTrainer(flow);
    if (model.trainer === undefined) throw new SerializationError('the saved model has no optimizer state');
    trainer.setState(model.trainer);
    return { flow, trainer };
  } catch (err) {
    trainer?.dispose();
    flow.dispose();
    throw err;
  }
}

function restoreReservoir(reservoir: Reservoir | undefined, s: ReservoirState | null): void {
  if ((reservoir === undefined) !== (s === null)) {
    throw new SerializationError(
      reservoir === undefined
        ? 'the state holds a replay reservoir but none is configured (training.replayReservoir.size is 0)'
        : 'the state has no replay reservoir but one is configured (training.replayReservoir.size > 0)',
    );
  }
  if (reservoir !== undefined && s !== null) reservoir.setState(s);
}
