import type { Admin } from 'kafkajs';
import { fromKey, tpKey } from './assignment.js';
import { KafkaError } from './errors.js';
import type { KafkaSourceSettings } from './source-types.js';

/** Options of `SessionMonitor`. */
export interface SessionMonitorOptions {
  readonly settings: KafkaSourceSettings;
  /** Next offset this member reads, per `tpKey` of partitions it has emitted from. */
  readonly positions: () => ReadonlyMap<string, bigint>;
  /** `tpKey`s of the partitions assigned now. */
  readonly assigned: () => ReadonlySet<string>;
  /** The broker stayed unreachable past `kafka.outageToleranceMs`; called once. */
  readonly onOutage: (err: KafkaError) => void;
}

/**
 * The timers of a consumer session: the outage watchdog (`health.outageExceeded()`, checked every second
 * or every quarter of the tolerance) and the lag poller (end offsets every `lagIntervalMs` through an
 * admin client, so lag is reported while the consumer is paused or the pipeline stalled, when no batch
 * arrives to report it).
 */
export class SessionMonitor {
  private readonly timers: NodeJS.Timeout[] = [];
  private admin: Admin | null = null;
  /** The lag poll in flight. */
  private poll: Promise<void> | null = null;
  private outage = false;
  private stopped = false;
  private releaseJoin: (() => void) | null = null;

  constructor(private readonly o: SessionMonitorOptions) {}

  /** Starts the timers; a no-op after `stop` (a session closed while its consumer was still starting). */
  start(): void {
    if (this.stopped) return;
    const { health, observer, lagIntervalMs } = this.o.settings;
    if (health !== undefined) {
      const every = Math.min(1000, Math.max(10, Math.floor(health.outageToleranceMs / 4)));
      this.every(every, () => {
        if (this.outage || !health.outageExceeded()) return;
        this.outage = true;
        this.o.onOutage(health.outageError());
      });
    }
    if (observer?.lag !== undefined) this.every(lagIntervalMs, () => this.pollLag());
  }

  /** A group join started (first join or rebalance): it may block up to the rebalance timeout. */
  joining(): void {
    this.releaseJoin ??= this.o.settings.health?.hold() ?? null;
  }

  /** The join ended (joined, or the consumer crashed). */
  joinEnded(): void {
    this.releaseJoin?.();
    this.releaseJoin = null;
  }

  /**
   * Stops the timers and disconnects the lag admin, without waiting for a lag poll in flight (it may be
   * retrying against an unreachable broker). That poll's admin is disconnected again once it settled: a
   * request kafkajs retries after its connection closed reconnects, and an admin still connecting when
   * `stop` ran connects afterwards. Either left a socket open that kept the process alive after a
   * graceful shutdown (test/regression/kafka-lag-admin-leak.test.ts).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.joinEnded();
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    const admin = this.admin;
    this.admin = null;
    const disconnect = (): Promise<void> => admin?.disconnect().catch(() => undefined) ?? Promise.resolve();
    this.poll?.then(disconnect, disconnect).catch(() => undefined);
    await disconnect();
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private pollLag(): void {
    if (this.poll !== null || this.stopped || this.o.assigned().size === 0) return;
    this.poll = this.fetchLag()
      .catch((err: unknown) => {
        const { client } = this.o.settings;
        client.logger.debug({ err: client.error(err, 'fetching end offsets') }, 'lag poll failed');
      })
      .finally(() => {
        this.poll = null;
      });
  }

  private async connectedAdmin(): Promise<Admin> {
    if (this.admin !== null) return this.admin;
    const { client, health } = this.o.settings;
    const admin = client.admin();
    if (health !== undefined) admin.on(admin.events.REQUEST, () => health.contact());
    await admin.connect();
    if (this.stopped) {
      await admin.disconnect();
      throw new KafkaError('the session stopped while the lag admin was connecting', 'transient');
    }
    this.admin = admin;
    return admin;
  }

  private async fetchLag(): Promise<void> {
    const { settings, positions } = this.o;
    const admin = await this.connectedAdmin();
    const assigned = [...this.o.assigned()].map(fromKey);
    const topics = [...new Set(assigned.map((tp) => tp.topic))];
    const offsets = admin.fetchOffsets({ groupId: settings.groupId, topics });
    const endOffsets = topics.map((topic) => admin.fetchTopicOffsets(topic));
    // Every request settled, also after one failed: none is left retrying (and reconnecting) after stop.
    await Promise.allSettled([offsets, ...endOffsets]);
    if (this.stopped) return;
    const committed = await offsets;
    const ends = await Promise.all(endOffsets);
    const known = positions();
    topics.forEach((topic, i) => {
      const groupOffsets = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const end of ends[i] ?? []) {
        const key = tpKey(topic, end.partition);
        if (!this.o.assigned().has(key)) continue;
        const stored = groupOffsets.find((p) => p.partition === end.partition)?.offset;
        const position =
          known.get(key) ?? (stored !== undefined && stored !== '-1' ? BigInt(stored) : undefined);
        if (position === undefined) continue;
        const behind = BigInt(end.high) - position;
        settings.observer?.lag?.({ topic, partition: end.partition, lag: behind > 0n ? Number(behind) : 0 });
      }
    });
  }
}
