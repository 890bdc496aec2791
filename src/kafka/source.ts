import { Observable } from 'rxjs';
import { DEFAULT_PAUSE_AFTER_MS } from '../config/schema-run.js';
import { InvalidOptionError } from '../errors.js';
import type { CreditGate } from '../streams/backpressure.js';
import { type RecordSource, SourceError } from '../streams/source.js';
import type { SourceRecord } from '../streams/types.js';
import { ConsumerSession } from './consumer-session.js';
import {
  emptyStats,
  type KafkaSourceOptions,
  type KafkaSourceSettings,
  type KafkaSourceStats,
  type KafkaStart,
  type TopicPartition,
} from './source-types.js';

const STARTS: readonly KafkaStart[] = ['earliest', 'latest', 'committed'];

function ms(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) {
    throw new InvalidOptionError(`KafkaSource: ${name} must be an integer >= ${min} ms, got ${value}`, {
      context: { [name]: value },
    });
  }
  return v;
}

function settingsOf(o: KafkaSourceOptions): KafkaSourceSettings {
  if (typeof o.groupId !== 'string' || o.groupId.length === 0) {
    throw new InvalidOptionError('KafkaSource: groupId must be a non-empty string (kafka.groupId)');
  }
  if (
    !Array.isArray(o.topics) ||
    o.topics.length === 0 ||
    o.topics.some((t) => typeof t !== 'string' || !t)
  ) {
    throw new InvalidOptionError('KafkaSource: topics must list at least one topic name (kafka.topics)');
  }
  const start = o.start ?? 'committed';
  if (!STARTS.includes(start)) {
    throw new InvalidOptionError(
      `KafkaSource: start must be one of ${STARTS.join(', ')}, got ${String(start)}`,
    );
  }
  const sessionTimeoutMs = ms('sessionTimeoutMs', o.sessionTimeoutMs, 30_000);
  const heartbeatIntervalMs = ms('heartbeatIntervalMs', o.heartbeatIntervalMs, 3000);
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new InvalidOptionError(
      `KafkaSource: heartbeatIntervalMs (${heartbeatIntervalMs}) must be below sessionTimeoutMs (${sessionTimeoutMs}); a third of it is usual`,
    );
  }
  const maxWaitTimeMs = ms('maxWaitTimeMs', o.maxWaitTimeMs, 500);
  return {
    client: o.client,
    groupId: o.groupId,
    topics: [...o.topics],
    start,
    acks: o.acks,
    commitIntervalMs: ms('commitIntervalMs', o.commitIntervalMs, 1000, 0),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    rebalanceTimeoutMs: ms('rebalanceTimeoutMs', o.rebalanceTimeoutMs, 60_000),
    maxWaitTimeMs,
    pauseAfterMs: ms('pauseAfterMs', o.pauseAfterMs, DEFAULT_PAUSE_AFTER_MS, 0),
    maxBytesPerPartition: ms('maxBytesPerPartition', o.maxBytesPerPartition, 1_048_576),
    lagIntervalMs: ms('lagIntervalMs', o.lagIntervalMs, 5000),
    scheduler: o.scheduler,
    observer: o.observer,
    health: o.health,
  };
}

/**
 * A consumer group over `topics` as a `RecordSource`, at-least-once.
 *
 * - Backpressure: one credit per record (`tryAcquire` in kafkajs `eachBatch`); when credit runs out the
 *   source waits inside the fetched batch (heartbeating) for up to `pauseAfterMs`. A longer stall pauses
 *   the topics and drops the rest of the batch, to be fetched again after resume, so nothing is buffered
 *   beyond `highWaterMark` records plus one fetch response. While paused the consumer keeps heartbeating,
 *   so the member is never kicked out however long the pipeline stalls.
 * - Commits: auto-commit is off; only `acks.committable()` positions (last contiguously acknowledged + 1)
 *   are committed, throttled to one commit per `commitIntervalMs` after acknowledgements, on `commit()`,
 *   before a rebalance (best effort) and on `close()`.
 * - Rebalance: revoked partitions get their acknowledged position committed and are released from the ack
 *   tracker; their in-flight records may be processed again by the new owner (at-least-once). Records a
 *   retained partition re-delivers after a rejoin are skipped (not emitted twice).
 *
 * The pipeline registers records with the tracker (`runPipeline` does); the source never does.
 * One subscription at a time. Unsubscribing stops emitting but stays in the group so the drain can be
 * committed; call `close()` afterwards (commit, leave the group, disconnect).
 */
export class KafkaSource implements RecordSource {
  private readonly settings: KafkaSourceSettings;
  private session: ConsumerSession | null = null;

  constructor(options: KafkaSourceOptions) {
    this.settings = settingsOf(options);
  }

  records(credits: CreditGate): Observable<SourceRecord> {
    return new Observable<SourceRecord>((subscriber) => {
      if (this.session !== null) {
        subscriber.error(
          new SourceError('KafkaSource supports one subscription; close() it and create a new KafkaSource'),
        );
        return undefined;
      }
      const session = new ConsumerSession(this.settings, credits, subscriber);
      this.session = session;
      void session.start();
      return () => session.detach();
    });
  }

  /** True once the consumer joined its group (for readiness probes). */
  get ready(): boolean {
    return this.session?.ready ?? false;
  }

  /** Partitions currently assigned to this member. */
  get assignment(): TopicPartition[] {
    return this.session?.assignment ?? [];
  }

  /** Counters of the current subscription (zeros before the first). */
  get stats(): Readonly<KafkaSourceStats> {
    return this.session?.stats ?? emptyStats();
  }

  /** Commits every acknowledged position now. Rejects with a `KafkaError` if the broker refuses. */
  commit(): Promise<void> {
    return this.session?.commit() ?? Promise.resolve();
  }

  /**
   * Stops fetching, commits what is acknowledged, leaves the group and disconnects. Call it after the
   * pipeline drained (`handle.stop()` resolved). Commit failures are logged: the records are then
   * delivered again after restart (at-least-once). Idempotent.
   */
  close(): Promise<void> {
    return this.session?.close() ?? Promise.resolve();
  }
}
