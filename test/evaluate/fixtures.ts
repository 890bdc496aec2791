/** Seeded labelled fixtures for the evaluation tests: a tabular CSV and a tiny NAB-layout corpus. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ConfigOverrides } from '../../src/config/load.js';
import { createRng } from '../../src/core/rng.js';
import { formatNabTime } from '../../src/evaluate/nab-corpus.js';

/** Rows of a correlated 4-feature table; `anomalies` rows (from row 300 on) are shifted 8σ. */
export function tabularCsv(rows: number, seed: number): { text: string; anomalyRows: number[] } {
  const rng = createRng(seed);
  const anomalyRows = new Set<number>();
  for (let i = 300; i < rows; i += 37) anomalyRows.add(i);
  // One run of three consecutive anomalies.
  for (const i of [500, 501, 502]) if (i < rows) anomalyRows.add(i);
  const lines = ['x0,x1,x2,x3,label'];
  for (let i = 0; i < rows; i++) {
    const a = rng.normal();
    const b = rng.normal();
    let x = [a, 0.8 * a + 0.6 * b, rng.normal() * 2 + 5, b - a];
    const anomalous = anomalyRows.has(i);
    if (anomalous) x = x.map((v, k) => v + (k % 2 === 0 ? 8 : -8));
    lines.push(`${x.map((v) => v.toFixed(5)).join(',')},${anomalous ? 1 : 0}`);
  }
  return { text: `${lines.join('\n')}\n`, anomalyRows: [...anomalyRows].sort((p, q) => p - q) };
}

/** Writes `<dir>/<name>.csv` and `<dir>/<name>.csv.gz`; returns their paths. */
export async function writeTabular(dir: string, name: string, rows: number, seed: number) {
  const { text, anomalyRows } = tabularCsv(rows, seed);
  await mkdir(dir, { recursive: true });
  const csv = join(dir, `${name}.csv`);
  const gz = join(dir, `${name}.csv.gz`);
  await writeFile(csv, text);
  await writeFile(gz, gzipSync(Buffer.from(text)));
  return { csv, gz, anomalyRows };
}

/** A small, fast config for tabular runs (YAML-compatible overrides). */
export const FAST_TABULAR: ConfigOverrides = {
  model: { type: 'realnvp', layers: 2, hidden: 16 },
  training: {
    stepsPerBatch: 1,
    learningRate: 0.005,
    batchSize: 64,
    replayReservoir: { size: 500, fraction: 0.5 },
    // Spelled out so a run with config/tabular.yaml underneath uses the same settings as one without.
    trimTail: 0,
    dequantise: 'off',
  },
  warmup: { events: 150 },
  threshold: { policy: 'quantile', quantile: 0.03, budget: 'all', window: 500, minObservations: 100 },
  batching: { maxSize: 32, highWaterMark: 256 },
  metrics: { enabled: false },
  explain: { enabled: false },
  drift: { enabled: false },
};

/** A fast time-series config for the NAB tests. */
export const FAST_NAB: ConfigOverrides = {
  features: { fields: ['value'] },
  timeseries: { enabled: true, lags: 4, differences: true, timeOfDay: false, dayOfWeek: false },
  model: { type: 'realnvp', layers: 2, hidden: 16, seed: 3 },
  training: {
    stepsPerBatch: 1,
    learningRate: 0.005,
    batchSize: 64,
    replayReservoir: { size: 500, fraction: 0.5 },
  },
  standardiser: { mode: 'ema', emaAlpha: 0.01 },
  warmup: { events: 60 },
  threshold: { policy: 'quantile', quantile: 0.02, window: 400, minObservations: 60 },
  batching: { maxSize: 32, highWaterMark: 256 },
  metrics: { enabled: false },
  explain: { enabled: false },
  drift: { enabled: false },
};

const START = Date.UTC(2014, 0, 1);
const STEP = 5 * 60_000;

/**
 * A NAB-layout corpus: `catA/spike.csv` (a spike at 70% inside a window), `catA/flat.csv` (no anomaly),
 * `catB/shift.csv` (a level shift at 60% inside a window), `points` points each.
 */
export async function writeNabCorpus(dir: string, points: number, seed: number): Promise<void> {
  const rng = createRng(seed);
  const labels: Record<string, [string, string][]> = {};
  const series = (name: string, value: (i: number) => number, anomalyAt?: number) => {
    const lines = ['timestamp,value'];
    for (let i = 0; i < points; i++) lines.push(`${formatNabTime(START + i * STEP)},${value(i).toFixed(4)}`);
    const half = Math.floor(points * 0.05);
    labels[name] =
      anomalyAt === undefined
        ? []
        : [
            [
              `${formatNabTime(START + (anomalyAt - half) * STEP)}.000000`,
              `${formatNabTime(START + (anomalyAt + half) * STEP)}.000000`,
            ],
          ];
    return { name, text: `${lines.join('\n')}\n` };
  };
  const spikeAt = Math.floor(points * 0.7);
  const shiftAt = Math.floor(points * 0.6);
  const files = [
    series(
      'catA/spike.csv',
      (i) => 10 + Math.sin(i / 10) + 0.1 * rng.normal() + (i === spikeAt ? 15 : 0),
      spikeAt,
    ),
    series('catA/flat.csv', () => 5 + 0.2 * rng.normal()),
    series('catB/shift.csv', (i) => 20 + 0.3 * rng.normal() + (i >= shiftAt ? 6 : 0), shiftAt),
  ];
  for (const f of files) {
    await mkdir(join(dir, 'data', f.name.split('/')[0]!), { recursive: true });
    await writeFile(join(dir, 'data', f.name), f.text);
  }
  await mkdir(join(dir, 'labels'), { recursive: true });
  await writeFile(join(dir, 'labels', 'combined_windows.json'), JSON.stringify(labels, null, 2));
}
