import type { CommitPosition } from '../acks.js';
import { DEAD_LETTER_REASONS, type DeadLetter, type DeadLetterReason } from '../types.js';
import type { ObservedBatch } from './types.js';

/** Counts of a run. After a successful run `in === scored + warming + deadLettered`. */
export interface PipelineSummary {
  readonly in: number;
  readonly scored: number;
  readonly warming: number;
  /** Events flagged `isAnomaly`. */
  readonly anomalies: number;
  /** Anomalies written to the anomalies sink; `anomalies − alerts` were suppressed. */
  readonly alerts: number;
  readonly suppressed: number;
  readonly driftEvents: number;
  readonly deadLettered: number;
  readonly deadLetteredByReason: Readonly<Record<DeadLetterReason, number>>;
  readonly batches: number;
  /** Highest number of records in flight at any time (≤ highWaterMark). */
  readonly maxInFlight: number;
  /** `acks.committable()` at the time of the summary. */
  readonly committed: readonly CommitPosition[];
}

type Counts = Omit<PipelineSummary, 'deadLetteredByReason' | 'maxInFlight' | 'committed'>;

function emptyReasons(): Record<DeadLetterReason, number> {
  return Object.fromEntries(DEAD_LETTER_REASONS.map((r) => [r, 0])) as Record<DeadLetterReason, number>;
}

/**
 * The running counts behind `PipelineSummary`. The pipeline counts a record when it arrives, and a dead
 * letter or batch once its outputs are written (before it is acknowledged); the in-flight peak and the
 * commit positions are read from the credit gate and the ack tracker when a summary is taken.
 */
export class PipelineCounters {
  private readonly counts: { -readonly [K in keyof Counts]: number } = {
    in: 0,
    scored: 0,
    warming: 0,
    anomalies: 0,
    alerts: 0,
    suppressed: 0,
    driftEvents: 0,
    deadLettered: 0,
    batches: 0,
  };
  private readonly reasons = emptyReasons();

  constructor(
    private readonly credits: { readonly maxInFlight: number },
    private readonly acks: { committable(): readonly CommitPosition[] },
  ) {}

  /** A record arrived from the source. */
  arrived(): void {
    this.counts.in++;
  }

  /** A dead letter was written. */
  deadLettered(dead: DeadLetter): void {
    this.counts.deadLettered++;
    this.reasons[dead.reason]++;
  }

  /** A batch's outputs were written. */
  batchWritten(batch: ObservedBatch): void {
    const counts = this.counts;
    counts.batches++;
    counts.anomalies += batch.anomalies;
    counts.alerts += batch.alerts.length;
    counts.suppressed += batch.anomalies - batch.alerts.length;
    counts.driftEvents += batch.driftEvents.length;
    for (const r of batch.results) counts[r.status === 'warming' ? 'warming' : 'scored']++;
  }

  /** The counts so far, with the in-flight peak and the committable positions as of now. */
  summary(): PipelineSummary {
    return {
      ...this.counts,
      deadLetteredByReason: { ...this.reasons },
      maxInFlight: this.credits.maxInFlight,
      committed: this.acks.committable(),
    };
  }
}
