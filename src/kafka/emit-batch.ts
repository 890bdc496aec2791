import type { Batch, EachBatchPayload } from 'kafkajs';
import type { CreditGate } from '../streams/backpressure.js';
import type { SourceRecord } from '../streams/types.js';
import { tpKey } from './assignment.js';
import { awaitCredit, type CreditWaitSettings } from './credit-wait.js';
import { toSourceRecord } from './messages.js';
import type { KafkaSourceSettings } from './source-types.js';

/** What `emitBatch` needs from its consumer session. */
export interface BatchTarget {
  readonly credits: CreditGate;
  readonly settings: CreditWaitSettings & Pick<KafkaSourceSettings, 'observer'>;
  /** Aborts a credit wait when the session detaches. */
  readonly signal: AbortSignal;
  /** Highest offset emitted per partition (`tpKey`): re-deliveries after a rejoin are skipped. */
  readonly lastEmitted: Map<string, bigint>;
  detached(): boolean;
  emit(record: SourceRecord): void;
  /** Out of credit for longer than `pauseAfterMs`: pause fetching until a credit comes back. */
  pauseFetching(): void;
}

/**
 * Emits a fetched batch's records, one credit each; out of credit it waits in the batch (`awaitCredit`)
 * and pauses fetching only when that wait runs out. kafkajs's `isRunning`/`isStale` only change across
 * an await (flowsentinel never `seek`s), so they are checked after waits. Offsets rise within a batch, so
 * only the records before the first new one (re-deliveries after a rejoin) have their offset parsed.
 * Offsets are resolved, `lastEmitted` updated and `observer.emitted` told, before a wait and at the end,
 * not per record: kafkajs then fetches from the same position, and nothing reads `lastEmitted` or the
 * emitted count (metrics scrapes) before an await.
 */
export async function emitBatch(payload: EachBatchPayload, t: BatchTarget): Promise<void> {
  const { batch, resolveOffset, heartbeat } = payload;
  const { topic, partition, messages } = batch;
  const k = tpKey(topic, partition);
  const live = (): boolean => !t.detached() && payload.isRunning() && !payload.isStale();
  const last = t.lastEmitted.get(k);
  let skipping = last !== undefined; // still among offsets this member already emitted
  let done = 0; // messages[0, done) handed on or skipped
  let settled = 0; // messages[0, settled) resolved, and in lastEmitted when emitted
  let lastEmittedAt = -1; // index of the last emitted message
  let stoppedAt = -1; // index of the message the loop stopped on after looking at it
  let emitted = 0;
  let reported = 0; // emitted records already told to observer.emitted
  const settle = (): void => {
    if (done === settled) return;
    resolveOffset(messages[done - 1]!.offset);
    if (lastEmittedAt >= settled) t.lastEmitted.set(k, BigInt(messages[lastEmittedAt]!.offset));
    settled = done;
    if (emitted > reported) t.settings.observer?.emitted?.({ topic, partition, records: emitted - reported });
    reported = emitted;
  };
  const running = live();
  for (const message of messages) {
    if (!running || t.detached()) break;
    if (skipping && BigInt(message.offset) <= last!) {
      done++; // a re-delivery after a rejoin, already emitted: skipped
      continue;
    }
    skipping = false;
    if (t.credits.available === 0) {
      settle(); // out of credit: wait for the pipeline to drain; a longer stall pauses fetching
      await awaitCredit(t.credits, t.settings, heartbeat, t.signal);
      if (!live()) {
        stoppedAt = done;
        break;
      }
    }
    if (!t.credits.tryAcquire()) {
      t.pauseFetching();
      stoppedAt = done;
      break;
    }
    lastEmittedAt = done++;
    emitted++;
    t.emit(toSourceRecord(topic, partition, message));
  }
  settle();
  reportFetched(t, batch, emitted, batch.messages[stoppedAt] ?? batch.messages[done - 1], stoppedAt >= 0);
  await heartbeat();
}

/**
 * `observer.fetched` once the loop looked at a record (`at`): the partition's lag behind the batch's
 * high watermark, from the offset this member reads next (`at`'s when it `stopped` there, else the one
 * after it).
 */
function reportFetched(
  t: BatchTarget,
  batch: Batch,
  emitted: number,
  at: { readonly offset: string } | undefined,
  stopped: boolean,
): void {
  const fetched = t.settings.observer?.fetched;
  if (fetched === undefined || at === undefined) return;
  const next = BigInt(at.offset) + (stopped ? 0n : 1n);
  const behind = BigInt(batch.highWatermark) - next;
  const { topic, partition } = batch;
  fetched({ topic, partition, emitted, lag: behind > 0n ? Number(behind) : 0 });
}
