import type { Consumer, ConsumerCrashEvent, ConsumerGroupJoinEvent, EachBatchPayload } from 'kafkajs';
import { pairwise, type Subscriber, type Subscription, startWith } from 'rxjs';
import type { CommitPosition } from '../streams/acks.js';
import { bindPauseResume, type CreditGate } from '../streams/backpressure.js';
import type { SourceRecord } from '../streams/types.js';
import { assignmentKeys, fromKey, logCommitError, revocation, tpKey } from './assignment.js';
import { OffsetCommitter, type OffsetToCommit } from './committer.js';
import { crashIsFatal } from './consumer-crash.js';
import { type BatchTarget, emitBatch } from './emit-batch.js';
import { KafkaError } from './errors.js';
import { SessionMonitor } from './session-monitor.js';
import {
  emptyStats,
  type KafkaSourceSettings,
  type KafkaSourceStats,
  type TopicPartition,
} from './source-types.js';

/**
 * One subscription of a `KafkaSource`: a kafkajs consumer in the group, emitting records as credits allow.
 *
 * Lifecycle: `start` connects, subscribes and runs; `detach` (unsubscribe) stops emitting and pauses every
 * topic but STAYS in the group, heartbeating, so the pipeline can drain and its acknowledgements can still
 * be committed; `close` commits what is acknowledged and leaves the group.
 */
export class ConsumerSession {
  readonly stats: KafkaSourceStats = emptyStats();
  private readonly consumer: Consumer;
  private readonly committer: OffsetCommitter;
  /** Highest offset emitted per partition we own: re-deliveries after a rejoin are skipped. */
  private readonly lastEmitted = new Map<string, bigint>();
  private assigned = new Set<string>();
  private readonly subscriptions: Subscription[] = [];
  private readonly removers: (() => void)[] = [];
  private runCalled = false;
  private pausedWanted = false;
  private detached = false;
  private readonly detaching = new AbortController();
  private joined = false;
  private closing: Promise<void> | null = null;
  private readonly monitor: SessionMonitor;
  private gaveUp = false; // the outage tolerance ran out: no more kafkajs restarts
  private readonly runConfig = {
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: (payload: EachBatchPayload) => this.eachBatch(payload),
  };
  private readonly batchTarget: BatchTarget;
  /** COMMIT_OFFSETS events seen: kafkajs silently skips a commit while its runner is not running. */
  private commitEvents = 0;

  constructor(
    private readonly settings: KafkaSourceSettings,
    private readonly credits: CreditGate,
    private readonly subscriber: Subscriber<SourceRecord>,
  ) {
    const s = settings;
    this.consumer = s.client.consumer({
      groupId: s.groupId,
      sessionTimeout: s.sessionTimeoutMs,
      heartbeatInterval: s.heartbeatIntervalMs,
      rebalanceTimeout: s.rebalanceTimeoutMs,
      maxWaitTimeInMs: s.maxWaitTimeMs,
      maxBytesPerPartition: s.maxBytesPerPartition,
      allowAutoTopicCreation: false,
      // kafkajs restarts a crashed consumer on a timer that outlives disconnect() (kafkajs issue 852):
      // never once closing or past the outage tolerance, so a failed run can end.
      retry: { restartOnFailure: () => Promise.resolve(!this.gaveUp && this.closing === null) },
    });
    this.batchTarget = {
      credits: this.credits,
      settings: this.settings,
      signal: this.detaching.signal,
      lastEmitted: this.lastEmitted,
      detached: () => this.detached,
      emit: (record) => this.subscriber.next(record),
      pauseFetching: () => {
        this.stats.fetchPauses++;
        this.applyPause();
      },
    };
    this.monitor = new SessionMonitor({
      settings,
      positions: () => new Map([...this.lastEmitted].map(([k, last]) => [k, last + 1n])),
      assigned: () => this.assigned,
      onOutage: (err) => this.giveUp(err),
    });
    this.committer = new OffsetCommitter({
      send: (offsets) => this.sendCommit(offsets),
      intervalMs: s.commitIntervalMs,
      ...(s.scheduler ? { scheduler: s.scheduler } : {}),
      onCommitted: (positions) => {
        this.stats.commits++;
        s.observer?.committed?.(positions);
      },
      onScheduledError: (err) => logCommitError(this.settings.client, err),
    });
  }

  /** True once the group was joined and the consumer has not crashed for good. */
  get ready(): boolean {
    return this.joined && !this.subscriber.closed;
  }

  /** Partitions currently assigned to this member. */
  get assignment(): TopicPartition[] {
    return [...this.assigned].map(fromKey);
  }

  async start(): Promise<void> {
    const s = this.settings;
    try {
      await this.consumer.connect();
      this.monitor.joining();
      if (this.detached) return;
      await this.consumer.subscribe({ topics: [...s.topics], fromBeginning: s.start === 'earliest' });
      if (this.detached) return; // closed while subscribing: run() would connect again after disconnect
      this.listen();
      this.monitor.start();
      this.subscriptions.push(
        bindPauseResume(this.credits, { pause: () => this.onExhausted(), resume: () => this.onCredit() }),
        this.credits.inFlight$.pipe(startWith(0), pairwise()).subscribe(([before, after]) => {
          if (after < before) this.committer.schedule(() => this.committable());
        }),
      );
      const running = this.consumer.run(this.runConfig);
      this.runCalled = true;
      if (this.pausedWanted || this.detached) this.applyPause();
      await running;
    } catch (err) {
      if (!this.detached) this.subscriber.error(s.client.error(err, 'starting the Kafka consumer'));
    }
  }

  /** Stops emitting; keeps the group membership (heartbeats) so acknowledgements can still be committed. */
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.detaching.abort();
    this.applyPause();
  }

  /** Commits every acknowledged position of the partitions this member owns. Rejects with a `KafkaError`. */
  async commit(): Promise<void> {
    if (!this.runCalled) return;
    try {
      await this.committer.commit(() => this.committable());
    } catch (err) {
      throw this.settings.client.error(err, 'committing offsets');
    }
  }

  /** Detaches, commits what is acknowledged, leaves the group and disconnects. Idempotent; never rejects. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.detach();
    for (const s of this.subscriptions) s.unsubscribe();
    this.committer.stop();
    await this.monitor.stop();
    await this.commit().catch((err: unknown) => logCommitError(this.settings.client, err));
    try {
      await this.consumer.disconnect();
    } catch (err) {
      this.settings.client.logger.warn(
        { err: this.settings.client.error(err, 'disconnecting') },
        'consumer disconnect failed',
      );
    }
    for (const remove of this.removers) remove();
  }

  private async sendCommit(offsets: readonly OffsetToCommit[]): Promise<void> {
    const before = this.commitEvents;
    await this.consumer.commitOffsets([...offsets]);
    if (this.commitEvents === before) {
      throw new KafkaError(
        'offsets were not committed: the consumer is not running (restarting?)',
        'transient',
      );
    }
  }

  private committable(): CommitPosition[] {
    return this.settings.acks.committable().filter((p) => this.assigned.has(tpKey(p.topic, p.partition)));
  }

  /** Emits the batch's records, one credit each (`emitBatch`). */
  private eachBatch(payload: EachBatchPayload): Promise<void> {
    return emitBatch(payload, this.batchTarget);
  }

  private listen(): void {
    const { events } = this.consumer;
    this.removers.push(
      this.consumer.on(events.GROUP_JOIN, (e: ConsumerGroupJoinEvent) =>
        this.onJoin(e.payload.memberAssignment),
      ),
      this.consumer.on(events.REBALANCING, () => {
        this.stats.rebalances++;
        this.monitor.joining();
        this.settings.observer?.rebalancing?.();
        // Best effort before the partitions move: a commit racing the rejoin may be rejected; fine.
        this.committer
          .commit(() => this.committable())
          .catch((err: unknown) => logCommitError(this.settings.client, err));
      }),
      this.consumer.on(events.COMMIT_OFFSETS, () => {
        this.commitEvents++;
      }),
      this.consumer.on(events.REQUEST, () => this.settings.health?.contact()),
      this.consumer.on(events.CONNECT, () => this.monitor.joining()), // kafkajs restarts join again
      this.consumer.on(events.CRASH, (e: ConsumerCrashEvent) =>
        this.onCrash(e.payload.error, e.payload.restart),
      ),
    );
  }

  /**
   * New assignment. Partitions we held and lost are revoked: their acknowledged positions are committed
   * (best effort) and they are released from the ack tracker, so late acks for their in-flight records are
   * ignored; the new owner resumes from the committed offset and may process those records again.
   */
  private onJoin(memberAssignment: Record<string, number[]>): void {
    const next = assignmentKeys(memberAssignment);
    const { acks } = this.settings;
    const { revoked, positions } = revocation(
      [...this.lastEmitted.keys(), ...this.assigned],
      next,
      acks.committable(),
    );
    for (const { topic, partition } of revoked) {
      acks.releasePartition(topic, partition);
      this.lastEmitted.delete(tpKey(topic, partition));
    }
    this.assigned = next;
    if (positions.length > 0) {
      this.committer
        .commit(() => positions)
        .catch((err: unknown) => logCommitError(this.settings.client, err))
        .finally(() => {
          for (const p of positions) this.committer.forget(p.topic, p.partition);
        });
    }
    this.joined = true;
    this.monitor.joinEnded();
    this.stats.joins++;
    const assignment = this.assignment;
    this.settings.client.logger.info(
      { groupId: this.settings.groupId, assignment, revoked },
      'joined consumer group',
    );
    this.settings.observer?.groupJoin?.({ assignment, revoked });
  }

  private onCrash(error: Error, restart: boolean): void {
    this.stats.crashes++;
    this.monitor.joinEnded();
    const { consumer, runConfig, settings } = this;
    const wanted = (): boolean => !this.gaveUp && this.closing === null;
    if (!crashIsFatal(error, restart, { settings, consumer, runConfig, wanted })) return;
    this.joined = false;
    if (!this.detached) this.subscriber.error(settings.client.error(error, 'consuming'));
  }

  /** The broker stayed unreachable past the tolerance: stop restarting and fail the source. */
  private giveUp(err: KafkaError): void {
    this.gaveUp = true;
    this.joined = false;
    this.settings.client.logger.error({ err }, err.message);
    if (!this.detached) this.subscriber.error(err);
  }

  /** Out of credit: counted; fetching goes on until `awaitCredit` runs out (see `eachBatch`). */
  private onExhausted(): void {
    this.stats.pauses++;
    this.settings.observer?.paused?.();
  }

  private onCredit(): void {
    this.stats.resumes++;
    this.settings.observer?.resumed?.();
    if (this.detached || !this.pausedWanted) return;
    this.pausedWanted = false;
    this.withGroup(() => this.consumer.resume(this.topicList()));
  }

  private applyPause(): void {
    this.pausedWanted = true;
    this.withGroup(() => this.consumer.pause(this.topicList()));
  }

  private topicList(): { topic: string }[] {
    return this.settings.topics.map((topic) => ({ topic }));
  }

  /** pause/resume throw while kafkajs restarts a crashed consumer; the next batch re-applies the pause. */
  private withGroup(fn: () => void): void {
    if (!this.runCalled) return;
    try {
      fn();
    } catch (err) {
      const { client } = this.settings;
      client.logger.debug({ err: client.error(err, 'pause/resume') }, 'pause/resume skipped');
    }
  }
}
