import type { BatchDetector, FeatureEvent, ScoredEvent } from '../../src/streams/types.js';

/** Polls `condition` every `pollMs` until it holds; throws after `timeoutMs` naming `what`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  pollMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** A scored (non-warming) result for `e` with the given verdict; threshold fixed at −20 nats. */
export function scoredAs(
  e: FeatureEvent,
  o: { logLikelihood: number; isAnomaly?: boolean; modelVersion?: number },
): ScoredEvent {
  const isAnomaly = o.isAnomaly ?? false;
  return {
    ref: e.ref,
    timestamp: e.timestamp,
    key: e.key,
    status: 'scored',
    logLikelihood: o.logLikelihood,
    anomalyScore: isAnomaly ? 1 : 0,
    threshold: -20,
    isAnomaly,
    modelVersion: o.modelVersion ?? 1,
  };
}

/** A fake detector (real interface) that scores every event as normal, after `delayMs` of "work". */
export function scoreAllNormal(logLikelihood: number, delayMs = 0): BatchDetector {
  return {
    async process(batch: readonly FeatureEvent[]): Promise<readonly ScoredEvent[]> {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return batch.map((e) => scoredAs(e, { logLikelihood }));
    },
  };
}
