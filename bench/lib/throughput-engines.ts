/** Helpers of bench/throughput.bench.ts: decoded batches, the detector-alone run and the engine table. */
import type { AppConfig } from '../../src/config/index.js';
import { createDetector } from '../../src/detector/factory.js';
import type { FeatureEvent } from '../../src/streams/types.js';
import type { FixtureRows } from './fixture.js';
import { formatRate, markdownTable } from './stats.js';
import { clockMs } from './timing.js';

/** Events per second of both modes. */
export interface ModeRates {
  readonly scoreOnly: number;
  readonly scoreLearn: number;
}

/** Rates per wall second and per second of process CPU time (steadier on a shared machine). */
export interface Rates {
  readonly wall: ModeRates;
  readonly cpu: ModeRates;
}

/** One run's events per wall second and per CPU second. */
export interface Run {
  readonly wall: number;
  readonly cpu: number;
}

/** Engine and depth of the engine comparison (config defaults: fused, 6 layers). */
export interface ModelChoice {
  readonly engine: 'fused' | 'autodiff';
  readonly layers: number;
}

/** The rows as 256-event batches of decoded events (built before timing). */
export function featureBatches(rows: FixtureRows, size: number): FeatureEvent[][] {
  const d = rows.fields.length;
  const out: FeatureEvent[][] = [];
  for (let s = 0; s < rows.labels.length; s += size) {
    const batch: FeatureEvent[] = [];
    for (let i = s; i < Math.min(rows.labels.length, s + size); i++) {
      batch.push({
        ref: { topic: 'bench', partition: 0, offset: String(i) },
        timestamp: i * 60_000,
        key: null,
        features: rows.values.slice(i * d, (i + 1) * d),
      });
    }
    out.push(batch);
  }
  return out;
}

/** Events per wall and CPU second of `OnlineDetector.process` over all batches (fresh detector). */
export async function detectorRun(config: AppConfig, batches: readonly FeatureEvent[][]): Promise<Run> {
  const parts = createDetector(config);
  try {
    let n = 0;
    const [w0, c0] = [clockMs('wall'), clockMs('cpu')];
    for (const b of batches) n += (await parts.detector.process(b)).length;
    return { wall: (n * 1000) / (clockMs('wall') - w0), cpu: (n * 1000) / (clockMs('cpu') - c0) };
  } finally {
    parts.dispose();
  }
}

/** One row of the engine comparison. */
export interface EngineRow {
  readonly model: ModelChoice;
  readonly job: Rates;
  readonly detector: Rates;
}

export function engineTable(rows: readonly EngineRow[]): string {
  const r = formatRate;
  const body = rows.map((x) => [
    `realnvp ${x.model.layers}×64`,
    x.model.engine,
    r(x.detector.cpu.scoreOnly),
    r(x.detector.cpu.scoreLearn),
    r(x.job.cpu.scoreOnly),
    r(x.job.cpu.scoreLearn),
  ]);
  for (const layers of [6, 4]) {
    const f = rows.find((x) => x.model.layers === layers && x.model.engine === 'fused');
    const a = rows.find((x) => x.model.layers === layers && x.model.engine === 'autodiff');
    if (f === undefined || a === undefined) continue;
    const q = (x: number, y: number): string => `${(x / y).toFixed(2)}×`;
    body.push([
      `realnvp ${layers}×64`,
      'fused / autodiff',
      q(f.detector.cpu.scoreOnly, a.detector.cpu.scoreOnly),
      q(f.detector.cpu.scoreLearn, a.detector.cpu.scoreLearn),
      q(f.job.cpu.scoreOnly, a.job.cpu.scoreOnly),
      q(f.job.cpu.scoreLearn, a.job.cpu.scoreLearn),
    ]);
  }
  return markdownTable(
    [
      'model (d = 8)',
      'engine',
      'detector score only /CPU-s',
      'detector score + learn /CPU-s',
      'job score only /CPU-s',
      'job score + learn /CPU-s',
    ],
    body,
  );
}
