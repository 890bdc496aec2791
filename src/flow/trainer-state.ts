import { SerializationError } from '../errors.js';
import type { TrainerState } from './trainer-types.js';

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
