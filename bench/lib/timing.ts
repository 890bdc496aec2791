import { performance } from 'node:perf_hooks';
import { median } from './stats.js';

/** How long and how often to time one benchmark cell. */
export interface TimingPlan {
  /** Untimed warm-up (JIT, kernel set-up, allocator), ms; at least two calls, the first one cold. */
  readonly warmupMs: number;
  /** Wall budget of one timed repeat, ms; a repeat always makes at least one call. */
  readonly budgetMs: number;
  /** Timed repeats; the reported figure is their median. Calls slower than `budgetMs` get one repeat. */
  readonly repeats: number;
  /** A cold first call slower than this, ms, skips the cell (reported as too slow). */
  readonly maxCallMs: number;
  /**
   * What a call's duration is: 'wall' (default) elapsed time, or 'cpu' this process's user + system CPU
   * time, which is steadier on a machine shared with other work (all threads of the process count).
   */
  readonly clock?: BenchClock;
}

/** See `TimingPlan.clock`. */
export type BenchClock = 'wall' | 'cpu';

/** Outcome of `measureRate`. */
export type RateResult =
  | {
      readonly kind: 'measured';
      /** Median over repeats of rows processed per wall second. */
      readonly rowsPerSecond: number;
      /** Median over repeats of the mean wall time of one call, ms. */
      readonly msPerCall: number;
      /** Timed repeats actually made (1 when a call is slower than the repeat budget). */
      readonly repeats: number;
    }
  | {
      readonly kind: 'too-slow';
      /** Duration of the cold first call, ms (above `maxCallMs`); null when predicted and not run. */
      readonly coldMs: number | null;
    };

/** Milliseconds on `clock` since an arbitrary origin. */
export function clockMs(clock: BenchClock = 'wall'): number {
  if (clock === 'wall') return performance.now();
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function timeCall(call: () => Promise<void>, clock: BenchClock | undefined): Promise<number> {
  const t0 = clockMs(clock);
  await call();
  return clockMs(clock) - t0;
}

/**
 * Times an async call that processes `rowsPerCall` rows: a cold call (skip if slower than `maxCallMs`),
 * warm-up, then `repeats` repeats of as many calls as fit in `budgetMs`, reporting the median repeat.
 */
export async function measureRate(
  call: () => Promise<void>,
  rowsPerCall: number,
  plan: TimingPlan,
): Promise<RateResult> {
  const coldMs = await timeCall(call, plan.clock);
  if (coldMs > plan.maxCallMs) return { kind: 'too-slow', coldMs };
  let warmMs = coldMs;
  let lastMs = coldMs;
  for (let calls = 1; calls < 2 || warmMs < plan.warmupMs; calls++) {
    lastMs = await timeCall(call, plan.clock);
    warmMs += lastMs;
  }
  const repeats = lastMs > plan.budgetMs ? 1 : plan.repeats;
  const rates: number[] = [];
  const perCall: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let n = 0;
    let elapsed = 0;
    while (n < 1 || elapsed < plan.budgetMs) {
      elapsed += await timeCall(call, plan.clock);
      n++;
    }
    rates.push((n * rowsPerCall * 1000) / elapsed);
    perCall.push(elapsed / n);
  }
  return { kind: 'measured', rowsPerSecond: median(rates), msPerCall: median(perCall), repeats };
}
