/**
 * Duplicate accounting of the Kafka chaos test (test/integration/kafka-chaos.test.ts): which fault's
 * window each repeated output falls in, and a job's busiest consumption over a window (for the
 * "acknowledged since the last commit" part of the documented duplicate bound).
 */

/** Committed offsets per partition at the start of each fault, and the killed instance's partitions. */
export interface FaultMarks {
  readonly atDelete: ReadonlyMap<number, bigint>;
  readonly atKill: ReadonlyMap<number, bigint>;
  readonly atOutage: ReadonlyMap<number, bigint>;
  readonly killed: readonly number[];
}

/** Extra outputs (count − 1 per input offset), by the window they fall in. */
export interface DuplicateWindows {
  readonly total: number;
  /** Below the offsets committed before the first fault: must be 0 (committed work is never redone). */
  readonly belowCommitted: number;
  /** Between the scores deletion and the outage, not on the killed instance's uncommitted range. */
  readonly afterDelete: number;
  /** On the killed instance's partitions, from its committed offset at the kill up to the outage. */
  readonly afterKill: number;
  /** From the offsets committed when the broker was halted. */
  readonly afterOutage: number;
  /** Per window and partition: `first..last (count)` of the repeated offsets, for the log. */
  readonly ranges: Readonly<Record<string, string>>;
}

/** Sorts every repeated output of `counts` (`partition/offset` → outputs) into the fault windows. */
export function duplicateWindows(counts: ReadonlyMap<string, number>, m: FaultMarks): DuplicateWindows {
  const w = { total: 0, belowCommitted: 0, afterDelete: 0, afterKill: 0, afterOutage: 0 };
  const spans = new Map<string, { first: bigint; last: bigint; n: number }>();
  const note = (window: keyof typeof w, partition: number, offset: bigint, extra: number): void => {
    w[window] += extra;
    const key = `${window} p${partition}`;
    const s = spans.get(key) ?? { first: offset, last: offset, n: 0 };
    spans.set(key, {
      first: offset < s.first ? offset : s.first,
      last: offset > s.last ? offset : s.last,
      n: s.n + extra,
    });
  };
  for (const [ref, n] of counts) {
    if (n < 2) continue;
    const extra = n - 1;
    const [p = '', o = ''] = ref.split('/');
    const partition = Number(p);
    const offset = BigInt(o);
    const at = (marks: ReadonlyMap<number, bigint>): bigint => marks.get(partition) ?? 0n;
    w.total += extra;
    if (offset < at(m.atDelete)) note('belowCommitted', partition, offset, extra);
    else if (offset >= at(m.atOutage)) note('afterOutage', partition, offset, extra);
    else if (m.killed.includes(partition) && offset >= at(m.atKill))
      note('afterKill', partition, offset, extra);
    else note('afterDelete', partition, offset, extra);
  }
  const ranges = Object.fromEntries([...spans].sort().map(([k, s]) => [k, `${s.first}..${s.last} (${s.n})`]));
  return { ...w, ranges };
}

/** Samples of a monotonic counter over time. */
export interface RateSamples {
  /** The largest increase between two samples at most `windowMs` apart. */
  maxIn(windowMs: number): number;
  readonly samples: number;
}

/** Polls `read()` (a counter) every `everyMs` until `stop()`; failed reads are skipped. */
export function rateSampler(read: () => Promise<number>, everyMs = 200): { stop(): RateSamples } {
  const points: { t: number; v: number }[] = [];
  let running = true;
  const loop = async (): Promise<void> => {
    while (running) {
      const t = Date.now();
      const v = await read().catch(() => undefined);
      if (v !== undefined && Number.isFinite(v)) points.push({ t, v });
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
  loop().catch(() => undefined);
  return {
    stop() {
      running = false;
      return {
        samples: points.length,
        maxIn(windowMs) {
          let max = 0;
          for (let i = 0; i < points.length; i++) {
            for (let j = i + 1; j < points.length && points[j]!.t - points[i]!.t <= windowMs; j++) {
              max = Math.max(max, points[j]!.v - points[i]!.v);
            }
          }
          return max;
        },
      };
    },
  };
}
