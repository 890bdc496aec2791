import type { OperatorFunction } from 'rxjs';
import type { ScoredEvent } from '../types.js';
import { mapIn, type StageFailure, stageFailure } from './errors.js';
import type { AlertGate, GatedBatch, ScoredBatch } from './types.js';

/** Without a gate every anomaly is an alert; with one, its results must match the input one to one. */
function applyGate(
  gate: AlertGate | undefined,
  scored: readonly ScoredEvent[],
): { readonly results: readonly ScoredEvent[]; readonly alerts: readonly ScoredEvent[] } {
  if (gate === undefined) return { results: scored, alerts: scored.filter((r) => r.isAnomaly) };
  const out = gate.apply(scored);
  if (out.results.length !== scored.length) {
    throw new Error(`alert gate returned ${out.results.length} results for ${scored.length} events`);
  }
  return out;
}

/**
 * Decides which anomalies of each scored batch become alerts (alert suppression). The gate sees every
 * batch, in order; its results replace the detector's (suppressed anomalies keep `isAnomaly` and may
 * carry their episode). Without a gate every anomaly is an alert. Fails with stage `suppression` when
 * the gate throws or returns a different number of results.
 */
export function gateAlerts(
  gate: AlertGate | undefined,
  fail: StageFailure = stageFailure(),
): OperatorFunction<ScoredBatch, GatedBatch> {
  return mapIn('suppression', fail, ({ events, results: scored }) => {
    const { results, alerts } = applyGate(gate, scored);
    return { events, results, alerts, anomalies: results.filter((r) => r.isAnomaly).length };
  });
}
