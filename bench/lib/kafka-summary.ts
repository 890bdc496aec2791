/** The settings bench:kafka compares, its rows, and their medians over rounds. */
import { InvalidOptionError } from '../../src/errors.js';
import type { BenchArgs } from './args.js';
import type { KafkaImpl } from './kafka-before.js';
import type { JobRun, Timed } from './kafka-runs.js';
import { median } from './stats.js';

/** `--<key>=a,b,…`: integers ≥ 0 to compare, or `fallback`. */
export function intList(args: BenchArgs, key: string, fallback: number[]): number[] {
  const raw = args.values.get(key);
  if (raw === undefined) return fallback;
  const list = raw.split(',').map(Number);
  if (list.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new InvalidOptionError(`--${key} takes integers >= 0 separated by commas, got "${raw}"`);
  }
  return list;
}

/** One set of Kafka-path settings the bench compares. */
export interface Setting {
  readonly pauseAfterMs: number;
  readonly writesInFlight: number;
  /** Fetch size per partition, bytes (`KafkaSource` option); undefined = its default. */
  readonly maxBytesPerPartition?: number;
  /** The `src/kafka` that runs (`--before`); undefined = this checkout's. */
  readonly impl?: KafkaImpl;
}

export const variantName = ({ pauseAfterMs, writesInFlight, maxBytesPerPartition, impl }: Setting): string =>
  `${impl === undefined || impl.label === 'after' ? '' : `${impl.label}, `}` +
  `${pauseAfterMs === 0 ? 'pauseAfterMs 0 (pause at every full gate)' : `pauseAfterMs ${pauseAfterMs}`}, ` +
  `writesInFlight ${writesInFlight}${writesInFlight === 0 ? ' (write, then score the next)' : ''}` +
  `${maxBytesPerPartition === undefined ? '' : `, maxBytesPerPartition ${maxBytesPerPartition}`}`;

/** One latency run of a setting: `rate` events/s offered. */
export interface LatencyRun extends Setting {
  readonly rate: number;
  readonly round: number;
  readonly latencies: number[];
  readonly fetchPauses: number;
  /** Micro-batches, and the event loop's busy share (0–1) of the run. */
  readonly batches: number;
  readonly busy: number;
  /** Load average (1 min) when the run ended. */
  readonly load: string;
}

/** One round of a setting's throughput rows. */
export interface Variant extends Setting {
  /** Round number (1-based); odd rounds run the settings in the given order, even ones reversed. */
  readonly round: number;
  /** The replay path measured right before this variant's rows (the load drifts between rows). */
  readonly replay: Timed;
  readonly scoring: JobRun;
  /** Absent with `--learning=0`. */
  readonly learning?: JobRun;
}

/** Per setting (in first-round order), the medians over its rounds. */
export function summarize(variants: readonly Variant[]) {
  const names = [...new Set(variants.map(variantName))];
  return names.map((name) => {
    const vs = variants.filter((v) => variantName(v) === name);
    const v0 = vs[0]!;
    return {
      ...v0,
      rounds: vs.length,
      scoringMs: median(vs.map((v) => v.scoring.ms)),
      learningMs: median(vs.map((v) => v.learning?.ms ?? Number.NaN)),
      scoring: median(vs.map((v) => v.replay.ms / v.scoring.ms)),
      scoringCpu: median(vs.map((v) => v.replay.cpuMs / v.scoring.cpuMs)),
      learning: median(vs.map((v) => v.replay.ms / (v.learning?.ms ?? Number.NaN))),

      plumbingCpuMs: median(vs.map((v) => v.scoring.cpuMs - v.replay.cpuMs)),
    };
  });
}
