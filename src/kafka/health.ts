import { InvalidOptionError } from '../errors.js';
import { KafkaError } from './errors.js';

/** Why the Kafka side of a run is stalled. */
export type StallReason = 'broker_unreachable' | 'outputs_unacknowledged';

/** Every `StallReason`, e.g. to zero-initialise metric series. */
export const STALL_REASONS: readonly StallReason[] = ['broker_unreachable', 'outputs_unacknowledged'];

/** A stall longer than `stallMs`, with a sentence for /readyz. */
export interface Stall {
  readonly reason: StallReason;
  /** ms. */
  readonly forMs: number;
  readonly detail: string;
}

/** Options of `KafkaHealth`. */
export interface KafkaHealthOptions {
  /** `health.stallMs`: longer than this unreachable or unacknowledged is a stall, ms. */
  readonly stallMs: number;
  /** `kafka.outageToleranceMs`: longer than this unreachable ends the run, ms. */
  readonly outageToleranceMs: number;
  /** Wall clock, ms. Default `Date.now`. */
  readonly now?: () => number;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * What the Kafka clients of one run know about the broker: when a request last succeeded (any consumer,
 * producer or admin response; the consumer heartbeats every few seconds, so silence means the broker is
 * unreachable or frozen) and which output writes wait for acknowledgement since when. It backs /readyz,
 * `flowsentinel_stalled` and the outage watchdog that ends a run after `outageToleranceMs`.
 */
export class KafkaHealth {
  readonly stallMs: number;
  readonly outageToleranceMs: number;
  private readonly now: () => number;
  private lastContact: number;
  private readonly writes = new Map<number, number>();
  private nextWrite = 0;
  private holds = 0;

  constructor(options: KafkaHealthOptions) {
    for (const [name, key] of [
      ['stallMs', 'health.stallMs'],
      ['outageToleranceMs', 'kafka.outageToleranceMs'],
    ] as const) {
      const v = options[name];
      if (!Number.isFinite(v) || v <= 0) {
        throw new InvalidOptionError(
          `KafkaHealth: ${name} must be a positive number of ms (${key}), got ${v}`,
        );
      }
    }
    this.stallMs = options.stallMs;
    this.outageToleranceMs = options.outageToleranceMs;
    this.now = options.now ?? Date.now;
    this.lastContact = this.now();
  }

  /** A broker answered a request. */
  contact(): void {
    this.lastContact = this.now();
  }

  /**
   * A request that may legitimately go unanswered for long is pending (a group join waits for every
   * member, up to the rebalance timeout): silence does not count as unreachable until the returned
   * release is called (idempotent), which counts as contact.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.contact();
    };
  }

  /** An output write started; pass the id to `writeEnded` when it settles. */
  writeStarted(): number {
    const id = this.nextWrite++;
    this.writes.set(id, this.now());
    return id;
  }

  writeEnded(id: number): void {
    this.writes.delete(id);
  }

  /** ms since a broker last answered. */
  unreachableMs(): number {
    if (this.holds > 0) return 0;
    return Math.max(0, this.now() - this.lastContact);
  }

  /** Age of the oldest output write still waiting for the broker, ms (0 when none). */
  unacknowledgedMs(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const started of this.writes.values()) oldest = Math.min(oldest, started);
    return oldest === Number.POSITIVE_INFINITY ? 0 : Math.max(0, this.now() - oldest);
  }

  /** The current stall (unreachable first), or undefined when both are within `stallMs`. */
  stall(): Stall | undefined {
    const unreachable = this.unreachableMs();
    if (unreachable > this.stallMs) {
      return {
        reason: 'broker_unreachable',
        forMs: unreachable,
        detail: `Kafka unreachable for ${seconds(unreachable)} (health.stallMs ${seconds(this.stallMs)}); retrying until kafka.outageToleranceMs ${seconds(this.outageToleranceMs)}`,
      };
    }
    const unacknowledged = this.unacknowledgedMs();
    if (unacknowledged > this.stallMs) {
      return {
        reason: 'outputs_unacknowledged',
        forMs: unacknowledged,
        detail: `outputs unacknowledged by the broker for ${seconds(unacknowledged)} (health.stallMs ${seconds(this.stallMs)})`,
      };
    }
    return undefined;
  }

  /** True once the broker has been unreachable for longer than `outageToleranceMs`. */
  outageExceeded(): boolean {
    return this.unreachableMs() > this.outageToleranceMs;
  }

  /** The error that ends a run after too long an outage (retriable: a restart may succeed). */
  outageError(): KafkaError {
    const ms = this.unreachableMs();
    return new KafkaError(
      `Kafka unreachable for ${seconds(ms)}, longer than kafka.outageToleranceMs (${seconds(this.outageToleranceMs)}): giving up so that the process exits non-zero and the orchestrator restarts it`,
      'transient',
      { context: { unreachableMs: ms, outageToleranceMs: this.outageToleranceMs } },
    );
  }
}
