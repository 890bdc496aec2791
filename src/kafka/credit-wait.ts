import { asyncScheduler, filter, firstValueFrom, fromEvent, map, merge, timer } from 'rxjs';
import type { CreditGate } from '../streams/backpressure.js';
import type { KafkaSourceSettings } from './source-types.js';

/** The settings `awaitCredit` reads. */
export type CreditWaitSettings = Pick<
  KafkaSourceSettings,
  'pauseAfterMs' | 'heartbeatIntervalMs' | 'scheduler'
>;

/**
 * Waits inside a fetched batch until `credits` has a credit again, for at most `pauseAfterMs`, calling
 * kafkajs `heartbeat` (throttled by kafkajs; throws on a rebalance) at least every `heartbeatIntervalMs`
 * so the member stays in the group. Resolves `true` once a credit is there, `false` when the wait ran
 * out or `signal` aborted (the session detached).
 *
 * Why wait instead of pausing at once: while every partition is paused, kafkajs's fetch loop sleeps a
 * whole `maxWaitTimeInMs` and a resume does not wake it, so pausing at each full gate left the pipeline
 * idle for ~500 ms per `highWaterMark` records (about 600 events/s at 300 credits).
 */
export async function awaitCredit(
  credits: CreditGate,
  settings: CreditWaitSettings,
  heartbeat: () => Promise<void>,
  signal: AbortSignal,
): Promise<boolean> {
  let left = settings.pauseAfterMs;
  while (left > 0 && !signal.aborted) {
    const slice = Math.min(left, settings.heartbeatIntervalMs);
    const got = await firstValueFrom(
      merge(
        credits.exhausted$.pipe(
          filter((exhausted) => !exhausted),
          map(() => true),
        ),
        timer(slice, settings.scheduler ?? asyncScheduler).pipe(map(() => false)),
        fromEvent(signal, 'abort').pipe(map(() => false)),
      ),
    );
    await heartbeat();
    if (got) return true;
    left -= slice;
  }
  return false;
}
