import { Counter, Gauge, type Registry } from 'prom-client';
import type { ScoredEvent } from '../core/records.js';
import { InvalidOptionError } from '../errors.js';

/** Label value that collects every key beyond the label budget of `flowsentinel_key_anomalies_total`. */
export const OTHER_KEY_LABEL = 'other';
/** Default number of keys that get their own `key` label value. */
export const DEFAULT_MAX_KEY_LABELS = 50;
/** Longest `key` label value, characters (longer keys are cut). */
export const MAX_KEY_LABEL_LENGTH = 128;

/** Options of `createJobMetrics`. */
export interface JobMetricsOptions {
  /** Most records in flight (`batching.highWaterMark`), exported as the in-flight limit. */
  readonly highWaterMark: number;
  /** Readiness as /readyz answers it, sampled at every scrape into `flowsentinel_ready`. */
  readonly ready: () => boolean;
  /**
   * Share of recent events due for learning that the model trained on (the learning budget), sampled at
   * every scrape into `flowsentinel_training_learned_ratio`; default: always 1.
   */
  readonly learnedRatio?: () => number;
  /** Keys with their own label in `flowsentinel_key_anomalies_total` (default 50). */
  readonly maxKeyLabels?: number;
}

/** Handles of the job-level families (flow control, readiness, checkpoints, anomalies by key). */
export interface JobMetrics {
  readonly inFlight: Gauge;
  /**
   * Highest in-flight count since start. Unlike `inFlight`, a scrape cannot miss a short burst: on a fast
   * machine the pipeline drains each fetched batch within milliseconds and waits on the next fetch, so the
   * plain gauge reads 0 at most scrapes.
   */
  readonly inFlightPeak: Gauge;
  readonly inFlightLimit: Gauge;
  /**
   * Makes `inFlight` and `inFlightPeak` follow `gate` (the pipeline's credit gate), read at every scrape
   * rather than set per record. The peak is the gate's since its first credit.
   */
  readonly followInFlight: (gate: InFlightCount) => void;
  readonly ready: Gauge;
  readonly checkpoints: Counter;
  readonly learnedRatio: Gauge;
  readonly keyAnomalies: KeyAnomalyCounter;
}

/** What the in-flight gauges read (a `CreditGate`). */
export interface InFlightCount {
  readonly inFlight: number;
  /** Highest `inFlight` so far. */
  readonly maxInFlight: number;
}

/** Registers the job-level families on `registry` (call once per registry). */
export function createJobMetrics(registry: Registry, options: JobMetricsOptions): JobMetrics {
  const { highWaterMark, ready, learnedRatio = () => 1 } = options;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 1) {
    throw new InvalidOptionError(`highWaterMark must be a positive integer, got ${highWaterMark}`);
  }
  const registers = [registry];
  const inFlightLimit = new Gauge({
    name: 'flowsentinel_records_in_flight_limit',
    help: 'Most records in flight before the source pauses (batching.highWaterMark).',
    registers,
  });
  inFlightLimit.set(highWaterMark);
  let gate: InFlightCount | undefined;
  return {
    inFlight: new Gauge({
      name: 'flowsentinel_records_in_flight',
      help: 'Records read from the source and not yet acknowledged (all outputs written).',
      registers,
      collect() {
        if (gate !== undefined) this.set(gate.inFlight);
      },
    }),
    inFlightPeak: new Gauge({
      name: 'flowsentinel_records_in_flight_peak',
      help: 'Highest number of records in flight since the process started (high watermark of records_in_flight).',
      registers,
      collect() {
        // Until the followed gate has had a record in flight, the last gate's peak stands.
        if (gate !== undefined && gate.maxInFlight > 0) this.set(gate.maxInFlight);
      },
    }),
    inFlightLimit,
    followInFlight: (g) => {
      gate = g;
    },
    ready: new Gauge({
      name: 'flowsentinel_ready',
      help: '1 while /readyz answers ready (pipeline running, consumer joined), else 0.',
      registers,
      collect() {
        this.set(ready() ? 1 : 0);
      },
    }),
    checkpoints: new Counter({
      name: 'flowsentinel_checkpoints_total',
      help: 'Checkpoints written (model, standardiser, threshold, drift and suppression state).',
      registers,
    }),
    learnedRatio: new Gauge({
      name: 'flowsentinel_training_learned_ratio',
      help: 'Share of the last ~10k events due for learning that the model trained on (learning budget), 0 to 1.',
      registers,
      collect() {
        this.set(learnedRatio());
      },
    }),
    keyAnomalies: new KeyAnomalyCounter(registry, options.maxKeyLabels ?? DEFAULT_MAX_KEY_LABELS),
  };
}

/**
 * `flowsentinel_key_anomalies_total{key}`: anomalies per entity key with bounded cardinality. The first
 * `maxKeys` distinct keys that have an anomaly get their own label value for the life of the process;
 * anomalies of later keys count under `key="other"` (created at 0), so the family never has more than
 * `maxKeys + 1` series. Events without a key are not counted here (they are in `events_total`).
 */
export class KeyAnomalyCounter {
  private readonly counter: Counter<'key'>;
  private readonly labelled = new Set<string>();

  constructor(
    registry: Registry,
    private readonly maxKeys: number,
  ) {
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 0) {
      throw new InvalidOptionError(`maxKeyLabels must be an integer >= 0, got ${maxKeys}`);
    }
    this.counter = new Counter({
      name: 'flowsentinel_key_anomalies_total',
      help: `Anomalies per entity key; the first ${maxKeys} keys with an anomaly are labelled, the rest count under key="${OTHER_KEY_LABEL}".`,
      labelNames: ['key'] as const,
      registers: [registry],
    });
    this.counter.inc({ key: OTHER_KEY_LABEL }, 0);
  }

  /** Counts the anomalies of one batch by key. */
  record(results: readonly ScoredEvent[]): void {
    const counts = new Map<string, number>();
    for (const r of results) {
      if (!r.isAnomaly || r.key === null) continue;
      const label = this.labelOf(r.key);
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    for (const [key, n] of counts) this.counter.inc({ key }, n);
  }

  private labelOf(key: string): string {
    const label = key.length > MAX_KEY_LABEL_LENGTH ? key.slice(0, MAX_KEY_LABEL_LENGTH) : key;
    if (this.labelled.has(label)) return label;
    if (this.labelled.size >= this.maxKeys || label === OTHER_KEY_LABEL) return OTHER_KEY_LABEL;
    this.labelled.add(label);
    return label;
  }
}
