/** Validation of `Trainer` options and of saved trainer state. */
import { DEFAULT_CLIP_NORM, DEFAULT_WEIGHT_DECAY } from '../core/training-defaults.js';
import { InvalidOptionError, SerializationError } from '../errors.js';
import type { AdamWOptions } from './adamw.js';
import { ENGINES, type Engine } from './fused/engine.js';
import { createSchedule, type LearningRateSchedule } from './schedule.js';
import type { TrainerOptions, TrainerState } from './trainer-types.js';

function resolveSchedule(o: TrainerOptions): LearningRateSchedule {
  if (typeof o.schedule === 'function') {
    if (o.learningRate !== undefined) {
      throw new InvalidOptionError('pass either learningRate or a schedule function, not both');
    }
    return o.schedule;
  }
  const lr = o.learningRate ?? 1e-3;
  if (!(Number.isFinite(lr) && lr > 0)) {
    throw new InvalidOptionError(`learningRate must be a finite number > 0 (e.g. 1e-3), got ${lr}`);
  }
  return createSchedule(o.schedule ?? { kind: 'constant' }, lr);
}

/** `TrainerOptions` validated, with defaults. */
export interface ResolvedTrainerOptions {
  readonly schedule: LearningRateSchedule;
  readonly clipNorm: number;
  readonly engine: Engine;
  readonly hostScoreMaxRows: number;
  readonly hyper: AdamWOptions;
}

/** Validates `options` (InvalidOptionError says what is wrong) and fills in the defaults. */
export function resolveTrainerOptions(options: TrainerOptions): ResolvedTrainerOptions {
  const betas = options.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new InvalidOptionError('betas must be a pair [beta1, beta2], e.g. [0.9, 0.999]');
  }
  const clipNorm = options.clipNorm ?? DEFAULT_CLIP_NORM;
  if (typeof clipNorm !== 'number' || Number.isNaN(clipNorm)) {
    throw new InvalidOptionError('clipNorm must be a number (≤ 0 or Infinity disables clipping)');
  }
  const schedule = resolveSchedule(options);
  const engine = options.engine ?? 'autodiff';
  if (!ENGINES.includes(engine)) {
    throw new InvalidOptionError(`engine must be one of ${ENGINES.join(', ')}, got ${String(engine)}`);
  }
  const hostScoreMaxRows = options.hostScoreMaxRows ?? 0;
  if (!Number.isInteger(hostScoreMaxRows) || hostScoreMaxRows < 0) {
    throw new InvalidOptionError(`hostScoreMaxRows must be an integer >= 0, got ${options.hostScoreMaxRows}`);
  }
  const hyper = {
    beta1: betas[0],
    beta2: betas[1],
    epsilon: options.epsilon ?? 1e-8,
    weightDecay: options.weightDecay ?? DEFAULT_WEIGHT_DECAY,
    excludeVectorsFromDecay: options.excludeVectorsFromDecay ?? true,
  };
  return { schedule, clipNorm, engine, hostScoreMaxRows, hyper };
}

/** Validates `Trainer.getState` output (the optimizer state is validated by the optimizer). */
export function parseTrainerState(state: unknown): TrainerState {
  const s = state as Partial<TrainerState> | null;
  if (s === null || typeof s !== 'object' || s.format !== 'flowsentinel.trainer') {
    throw new SerializationError('not a trainer state: the "format" field is missing or wrong');
  }
  if (s.version !== 1) {
    throw new SerializationError(
      `trainer state version ${String(s.version)} is not supported (this build reads 1)`,
      { context: { version: s.version } },
    );
  }
  const counts = [s.step, s.skippedSteps];
  if (!counts.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)) {
    throw new SerializationError('trainer state "step" and "skippedSteps" must be integers ≥ 0');
  }
  if (s.optimizer?.step !== s.step) {
    throw new SerializationError(
      `trainer state is inconsistent: step ${String(s.step)} but optimizer step ${String(s.optimizer?.step)}`,
    );
  }
  return s as TrainerState;
}
