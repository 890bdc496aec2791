import { type MonoTypeOperatorFunction, tap } from 'rxjs';
import type { AckTracker } from '../acks.js';
import type { CreditGate } from '../backpressure.js';
import type { RecordRef, SourceRecord } from '../types.js';
import { type StageFailure, stageFailure } from './errors.js';

/**
 * Registers each record's arrival with the ack tracker (arrival order per partition), then calls
 * `onArrival`. Fails with stage `acks` when the tracker rejects the record (offset out of order or
 * malformed).
 */
export function registerArrivals(
  acks: Pick<AckTracker, 'register'>,
  fail: StageFailure = stageFailure(),
  onArrival: (record: SourceRecord) => void = () => undefined,
): MonoTypeOperatorFunction<SourceRecord> {
  return tap((record) => {
    try {
      acks.register(record);
    } catch (err) {
      throw fail('acks', err);
    }
    onArrival(record);
  });
}

/**
 * Acknowledges the records of each item (`refsOf`: a batch's events, a dead letter's record) and gives
 * their credits back, then passes the item on. Place it after the writes of the item's outputs: an
 * acknowledged record may be committed, and its credit lets the source read another record.
 */
export function acknowledge<T>(
  acks: Pick<AckTracker, 'ack'>,
  credits: Pick<CreditGate, 'release'>,
  refsOf: (item: T) => readonly RecordRef[],
): MonoTypeOperatorFunction<T> {
  return tap((item) => {
    const refs = refsOf(item);
    for (const ref of refs) acks.ack(ref);
    credits.release(refs.length);
  });
}
