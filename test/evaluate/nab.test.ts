import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { InvalidOptionError } from '../../src/errors.js';
import {
  evaluateNab,
  formatNabSummary,
  NAB_PROFILE_NAMES,
  type NabEvaluation,
} from '../../src/evaluate/index.js';
import { parseNabTime, readNabCorpus } from '../../src/evaluate/nab-corpus.js';
import { FAST_NAB, writeNabCorpus } from './fixtures.js';

let dir: string;
const POINTS = 600;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fs-eval-nab-'));
  await writeNabCorpus(join(dir, 'nab'), POINTS, 5);
  await writeFile(join(dir, 'fast.yaml'), stringify(FAST_NAB));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('evaluate nab', () => {
  let result: NabEvaluation;
  const out = () => join(dir, 'out');

  it('scores every series with a fresh detector and writes NAB results files', async () => {
    const progress: number[] = [];
    result = await evaluateNab({
      dir: join(dir, 'nab'),
      // An explicit file, so a shipped config/nab.yaml does not change the test.
      configFile: join(dir, 'fast.yaml'),
      seed: 2,
      outDir: out(),
      dedupeWindow: 50,
      onProgress: (done, _total, p) => progress.push(done, p.done),
    });
    expect(result).toMatchObject({
      mode: 'nab',
      series: 3,
      windows: 2,
      points: 3 * POINTS,
      seed: 2,
      dedupeWindow: 50,
    });
    expect(progress.at(-1)).toBe(3 * POINTS);
    expect(progress.at(-2)).toBe(3 * POINTS);
    expect(result.perSeries.map((s) => s.name)).toEqual([
      'catA/flat.csv',
      'catA/spike.csv',
      'catB/shift.csv',
    ]);
    const csv = (await readFile(join(out(), 'results', 'catA', 'flowsentinel_spike.csv'), 'utf8'))
      .trim()
      .split('\n');
    expect(csv[0]).toBe('timestamp,value,anomaly_score,label');
    expect(csv).toHaveLength(POINTS + 1);
    const rows = csv.slice(1).map((l) => l.split(','));
    expect(rows.every((r) => r.length === 4 && Number(r[2]) >= 0 && Number(r[2]) < 1)).toBe(true);
    // label = inside the window: 2·⌊0.05·600⌋ + 1 points around the spike.
    expect(rows.filter((r) => r[3] === '1')).toHaveLength(61);
    expect(parseNabTime(rows[0]![0]!)).toBe(Date.UTC(2014, 0, 1));
  });

  it('reports fixed and optimised scores per profile, category and series, optimised ≥ fixed', async () => {
    for (const p of NAB_PROFILE_NAMES) {
      const s = result.scores[p];
      expect(s.optimised.total.normalised).toBeGreaterThanOrEqual(s.fixed.total.normalised - 1e-9);
      expect(result.profiles[p].normalised).toBe(s.optimised.total.normalised);
      expect(Object.keys(s.fixed.categories).sort()).toEqual(['catA', 'catB']);
      expect(Object.keys(s.optimised.series)).toHaveLength(3);
      expect(s.optimised.total.perfectScore).toBe(2);
      const cats = Object.values(s.optimised.categories);
      expect(cats.reduce((a, c) => a + c.raw, 0)).toBeCloseTo(s.optimised.total.raw, 10);
    }
    // The planted spike is obvious: with the best threshold, at least one window is found.
    expect(result.scores.standard.optimised.total.tp).toBeGreaterThanOrEqual(1);
    const json = JSON.parse(await readFile(join(out(), 'results.json'), 'utf8')) as NabEvaluation;
    expect(json.scores.standard.optimised.threshold).toBe(result.scores.standard.optimised.threshold);
    // A series without windows has no normalised score: written as null.
    expect(json.scores.standard.fixed.series['catA/flat.csv']!.normalised).toBeNull();
    const html = await readFile(join(out(), 'report.html'), 'utf8');
    expect(html.match(/<figure class="chart"><svg/g)).toHaveLength(3 + 3);
    expect(formatNabSummary(result)).toMatch(/standard\s+-?\d+\.\d\s+-?\d+\.\d \(/);
  });

  it('filters series and takes a loaded config (the benchmark path)', async () => {
    const config = loadConfig({ env: {}, overrides: FAST_NAB });
    const r = await evaluateNab({ dir: join(dir, 'nab'), config, filter: /catB/ });
    expect(r).toMatchObject({ series: 1, windows: 1, configSource: 'given config' });
    const plain = loadConfig({ env: {}, overrides: { features: { fields: ['value'] } } });
    await expect(evaluateNab({ dir: join(dir, 'nab'), config: plain })).rejects.toThrow(/timeseries.enabled/);
    await expect(evaluateNab({ dir: join(dir, 'nab'), config, filter: /none/ })).rejects.toThrow(
      InvalidOptionError,
    );
  });

  it('reads the corpus layout with windows in epoch ms', async () => {
    const corpus = await readNabCorpus(join(dir, 'nab'), /spike/);
    expect(corpus).toHaveLength(1);
    const [s] = corpus;
    expect(s!.values).toHaveLength(POINTS);
    const [[a, b]] = s!.windows as [readonly [number, number]];
    expect((b - a) / (5 * 60_000)).toBe(60);
  });
});
