import type { OperatorFunction } from 'rxjs';
import { mapIn, type StageFailure, stageFailure } from './errors.js';
import type { DriftStage, GatedBatch, ObservedBatch } from './types.js';

/**
 * Shows each gated batch's results to the drift stage, in order, and attaches the drift events it
 * reports (none without a stage). Fails with stage `drift` when the stage throws.
 */
export function observeDrift(
  drift: DriftStage | undefined,
  fail: StageFailure = stageFailure(),
): OperatorFunction<GatedBatch, ObservedBatch> {
  return mapIn('drift', fail, (batch) => ({ ...batch, driftEvents: drift?.observe(batch.results) ?? [] }));
}
