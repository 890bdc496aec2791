/**
 * Seeded inputs for detector tests: correlated Gaussian feature events, a small realnvp config, a silent
 * logger and a gc handle for heap measurements.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type ConfigOverrides, loadConfig } from '../../src/config/load.js';
import type { AppConfig } from '../../src/config/schema.js';
import { createRng, type Rng } from '../../src/core/rng.js';
import { createLogger, type Logger } from '../../src/logging.js';
import type { FeatureEvent } from '../../src/streams/types.js';
import { testBackend } from './detector-fixtures.js';

/** Mixing matrix of the 3-D test distribution (lower triangular: correlated features). */
const MIX: readonly (readonly number[])[] = [
  [1, 0, 0],
  [0.8, 0.6, 0],
  [-0.5, 0.3, 0.8],
];
/** Feature offsets in feature units, so standardisation has work to do. */
const OFFSET: readonly number[] = [10, -3, 100];
const SCALE: readonly number[] = [2, 0.5, 20];

/** One row of the 3-D test distribution, feature units. */
export function normalRow(rng: Rng): number[] {
  const z = [rng.normal(), rng.normal(), rng.normal()];
  return MIX.map((row, i) => OFFSET[i]! + SCALE[i]! * row.reduce((s, a, j) => s + a * z[j]!, 0));
}

/** A row `sigmas` marginal standard deviations away from the mean in every feature. */
export function outlierRow(sigmas: number): number[] {
  return OFFSET.map((m, i) => {
    const sd = SCALE[i]! * Math.hypot(...MIX[i]!);
    return m + sigmas * sd;
  });
}

/** Wraps feature rows as events with consecutive offsets from `start` on partition 0. */
export function toEvents(rows: readonly (readonly number[])[], start: number): FeatureEvent[] {
  return rows.map((row, i) => ({
    ref: { topic: 't', partition: 0, offset: String(start + i) },
    timestamp: 1_700_000_000_000 + (start + i) * 1000,
    key: null,
    features: Float32Array.from(row),
  }));
}

/** Produces consecutive batches of clean events from one seeded stream. */
export class EventStream {
  private readonly rng: Rng;
  private next = 0;

  constructor(seed: number) {
    this.rng = createRng(seed);
  }

  /** Events emitted so far (the offset of the next one). */
  get offset(): number {
    return this.next;
  }

  /** `n` clean events; rows listed in `replace` (index → row) are substituted. */
  batch(n: number, replace: ReadonlyMap<number, readonly number[]> = new Map()): FeatureEvent[] {
    const rows = Array.from({ length: n }, (_, i) => {
      const row = normalRow(this.rng);
      return replace.get(i) ?? row;
    });
    const out = toEvents(rows, this.next);
    this.next += n;
    return out;
  }
}

/** Config of a small, fast detector on the 3-D test stream; `overrides` win. */
export function smallDetectorConfig(overrides: ConfigOverrides = {}): AppConfig {
  const base: ConfigOverrides = {
    backend: testBackend(),
    features: { fields: ['a', 'b', 'c'] },
    model: { type: 'realnvp', layers: 2, hidden: 16, seed: 3 },
    training: {
      stepsPerBatch: 2,
      learningRate: 0.01,
      batchSize: 256,
      replayReservoir: { size: 5000, fraction: 0.5 },
    },
    warmup: { events: 200 },
    threshold: { policy: 'quantile', quantile: 0.01, window: 2000 },
    metrics: { enabled: false },
  };
  return loadConfig({ env: {}, overrides: mergeDeep(base, overrides) as ConfigOverrides });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeDeep(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isObject(prev) && isObject(v) ? mergeDeep(prev, v) : v;
  }
  return out;
}

/** A logger that drops everything. */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent' });
}

/**
 * The V8 garbage collector as a function. Vitest forks do not pass `--expose-gc` here, so the flag is set
 * at run time and `gc` is taken from a fresh context, where V8 installs it.
 */
export function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
