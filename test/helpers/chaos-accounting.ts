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

/** One probe of a job's counters. */
export interface CounterPoint {
  /** When the probe was sent, ms (Date.now()). */
  readonly t: number;
  /** Records consumed so far (`flowsentinel_kafka_records_consumed_total`). */
  readonly consumed: number;
  /** Offset commits the broker accepted so far (`flowsentinel_kafka_commits_total`). */
  readonly commits: number;
}

/** Samples of a job's consumed and commit counters over time. */
export interface RateSamples {
  /** The largest increase of `consumed` between two samples at most `windowMs` apart. */
  maxIn(windowMs: number): number;
  /**
   * Records consumed between the instant the job's last accepted commit may have read its positions and
   * the last sample (take it right before the fault), and that span in ms: every record acknowledged but
   * not committed at the last sample is among them. Commits are serialised, so the last commit accepted
   * by then started after the one before it was accepted, which was after the last sample showing at most
   * (final count − 2) commits (each sample reads both counters from one scrape). Without two observed
   * commits, from the first sample.
   */
  sinceCommit(): { readonly consumed: number; readonly spanMs: number };
  readonly samples: number;
}

/** The samples of `points`, analysed (see `RateSamples`); exported for its unit test. */
export function rateSamples(points: readonly CounterPoint[]): RateSamples {
  return {
    samples: points.length,
    maxIn(windowMs) {
      let max = 0;
      for (let i = 0; i < points.length; i++) {
        for (let j = i + 1; j < points.length && points[j]!.t - points[i]!.t <= windowMs; j++) {
          max = Math.max(max, points[j]!.consumed - points[i]!.consumed);
        }
      }
      return max;
    },
    sinceCommit() {
      const last = points.at(-1);
      if (last === undefined) throw new Error('sinceCommit: no samples');
      const ref = [...points].reverse().find((p) => p.commits <= last.commits - 2) ?? points[0]!;
      return { consumed: last.consumed - ref.consumed, spanMs: last.t - ref.t };
    },
  };
}

/**
 * Polls `read()` (a job's counters) every `everyMs` until `stop()`; failed reads are skipped.
 * `sample()` takes one more sample at once (it must succeed): call it right before a fault.
 */
export function rateSampler(
  read: () => Promise<Omit<CounterPoint, 't'>>,
  everyMs = 200,
): { sample(): Promise<void>; stop(): RateSamples } {
  const points: CounterPoint[] = [];
  let running = true;
  const take = async (): Promise<void> => {
    const t = Date.now();
    const v = await read();
    if (!Number.isFinite(v.consumed) || !Number.isFinite(v.commits))
      throw new Error(`bad counters ${JSON.stringify(v)}`);
    points.push({ t, ...v });
  };
  const loop = async (): Promise<void> => {
    while (running) {
      await take().catch(() => undefined);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
  loop().catch(() => undefined);
  return {
    sample: () => take(),
    stop() {
      running = false;
      return rateSamples([...points].sort((x, y) => x.t - y.t));
    },
  };
}
