import type { SchedulerLike } from 'rxjs';
import type { AckTracker, CommitPosition } from '../streams/acks.js';
import type { KafkaClient } from './client.js';
import type { KafkaHealth } from './health.js';

/**
 * Where a consumer group starts reading a partition. Committed offsets always win (at-least-once never
 * skips them); the setting only decides partitions the group has no committed offset for:
 * 'earliest' = the oldest retained record, 'latest' = only records produced after the group joined,
 * 'committed' = resume, and like 'latest' for partitions without a committed offset.
 */
export type KafkaStart = 'earliest' | 'latest' | 'committed';

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Callbacks for metrics, logs and tests. */
export interface KafkaSourceObserver {
  /** After every (re)join: the new assignment and the partitions this member lost. */
  groupJoin?(event: { assignment: readonly TopicPartition[]; revoked: readonly TopicPartition[] }): void;
  /** The group started rebalancing (this member will rejoin). */
  rebalancing?(): void;
  /** Out of credit: emitting stops (the source waits in the batch; fetching pauses after `pauseAfterMs`). */
  paused?(): void;
  /** Credit came back: emitting (and fetching, if it was paused) goes on. */
  resumed?(): void;
  /** Offsets committed (next offset to consume per partition). */
  committed?(positions: readonly CommitPosition[]): void;
  /**
   * Records of a partition were handed to the pipeline: one call per run of records emitted without an
   * await in between (a fetched batch is one run, or several when it waits for credit), made before the
   * source awaits anything, so no other task ever sees this count behind what the pipeline received.
   */
  emitted?(event: EmittedRun): void;
  /** After each fetched batch of a partition was handed on (or cut short by backpressure). */
  fetched?(event: FetchedBatch): void;
  /**
   * Every `lagIntervalMs`, per assigned partition whose read position is known: the partition's end
   * offset (fetched with an admin client) minus the next offset this member reads. Runs while paused or
   * stalled too, so the lag keeps growing when records arrive and nothing is read.
   */
  lag?(event: { readonly topic: string; readonly partition: number; readonly lag: number }): void;
}

/** One run of records handed to the pipeline, as `KafkaSourceObserver.emitted` sees it. */
export interface EmittedRun {
  readonly topic: string;
  readonly partition: number;
  /** Records emitted in this run (≥ 1; re-deliveries after a rejoin are skipped, not counted). */
  readonly records: number;
}

/** One fetched batch of a partition, as `KafkaSourceObserver.fetched` sees it. */
export interface FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  /** Records emitted to the pipeline from this batch (re-deliveries skipped, backpressure cut excluded). */
  readonly emitted: number;
  /**
   * Records between the next offset this member will read and the partition's high watermark as the
   * broker reported it with the batch (≥ 0): the consumer lag of the partition at that moment.
   */
  readonly lag: number;
}

/** Counters of one subscription. */
export interface KafkaSourceStats {
  joins: number;
  rebalances: number;
  pauses: number;
  resumes: number;
  commits: number;
  crashes: number;
  /** Times fetching was paused because the pipeline stalled longer than `pauseAfterMs`. */
  fetchPauses: number;
}

/** All-zero `KafkaSourceStats`. */
export function emptyStats(): KafkaSourceStats {
  return { joins: 0, rebalances: 0, pauses: 0, resumes: 0, commits: 0, crashes: 0, fetchPauses: 0 };
}

/** Options of `KafkaSource`. */
export interface KafkaSourceOptions {
  readonly client: KafkaClient;
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Default 'committed'. */
  readonly start?: KafkaStart;
  /** The pipeline's tracker: the source commits `acks.committable()` and releases revoked partitions. */
  readonly acks: AckTracker;
  /** Least time between automatic commits after acknowledgements, ms. Default 1000. */
  readonly commitIntervalMs?: number;
  /** Group session timeout, ms (the broker allows 6000–1 800 000 by default). Default 30 000. */
  readonly sessionTimeoutMs?: number;
  /** Heartbeat interval, ms; well below the session timeout. Default 3000. */
  readonly heartbeatIntervalMs?: number;
  /** How long the group waits for members to rejoin during a rebalance, ms. Default 60 000. */
  readonly rebalanceTimeoutMs?: number;
  /** Longest fetch wait when no data is available, ms (also the idle loop while paused). Default 500. */
  readonly maxWaitTimeMs?: number;
  /**
   * How long the source waits for credit inside a fetched batch before it pauses fetching, ms; 0 pauses
   * at once. Pausing makes kafkajs's fetch loop sleep `maxWaitTimeMs` after the resume, so it only pays
   * for longer stalls. Default `DEFAULT_PAUSE_AFTER_MS` (500, config `kafka.pauseAfterMs`; docs/kafka.md
   * "Backpressure").
   */
  readonly pauseAfterMs?: number;
  /** Fetch size per partition, bytes. Default 1 MiB. */
  readonly maxBytesPerPartition?: number;
  /** Timer of throttled commits; default asyncScheduler. */
  readonly scheduler?: SchedulerLike;
  readonly observer?: KafkaSourceObserver;
  /** How often end offsets are fetched for `observer.lag`, ms. Default 5000. */
  readonly lagIntervalMs?: number;
  /**
   * Broker contact tracking shared with the sinks: every consumer response counts as contact, and once
   * `health.outageExceeded()` the source errors with `health.outageError()` (checked every second, or
   * every quarter of the tolerance if shorter) and kafkajs no longer restarts a crashed consumer.
   */
  readonly health?: KafkaHealth;
}

/** `KafkaSourceOptions` with defaults applied. */
export type KafkaSourceSettings = Required<Omit<KafkaSourceOptions, 'scheduler' | 'observer' | 'health'>> &
  Pick<KafkaSourceOptions, 'scheduler' | 'observer' | 'health'>;
