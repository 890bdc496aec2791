import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { InvalidOptionError } from '../../src/errors.js';
import { averagePrecision, evaluateTabular, rocAuc, type TabularResult } from '../../src/evaluate/index.js';
import { parseLabelledCsv } from '../../src/evaluate/tabular-csv.js';
import { cliFromSource, REPO_ROOT } from '../helpers/detector-cli.js';
import { FAST_TABULAR, writeTabular } from './fixtures.js';

const run = promisify(execFile);
let dir: string;
let data: Awaited<ReturnType<typeof writeTabular>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fs-eval-tab-'));
  data = await writeTabular(dir, 'planted', 900, 21);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('evaluate tabular', () => {
  let result: TabularResult;

  it('runs the rows through the pipeline and ranks the planted anomalies first', async () => {
    const out = join(dir, 'out');
    // A config file without features.fields: the features are the CSV's columns but the label.
    const configFile = join(dir, 'fast.yaml');
    await writeFile(configFile, stringify(FAST_TABULAR));
    result = await evaluateTabular({ file: data.csv, configFile, seed: 4, outDir: out, includeScores: true });
    expect(result).toMatchObject({
      mode: 'tabular',
      dataset: 'planted',
      rows: 900,
      anomalies: data.anomalyRows.length,
      deadLettered: 0,
      seed: 4,
      configSource: configFile,
    });
    expect(result.configUsed.features.fields).toEqual(['x0', 'x1', 'x2', 'x3']);
    // Every planted anomaly comes after warm-up and is 8σ away: near-perfect ranking.
    expect(result.rocAuc).toBeGreaterThan(0.95);
    expect(result.prAuc).toBeGreaterThan(0.6);
    expect(result.recall).toBeGreaterThan(0.6);
    expect(result.alertsPer10k).toBeCloseTo((result.flagged / 900) * 10_000, 6);
    expect(result.configuredAlertRate).toBe(
      result.configUsed.threshold.policy === 'quantile' ? result.configUsed.threshold.quantile : Number.NaN,
    );
    expect(result.realisedAlertRate).toBeCloseTo(
      result.flagged / (900 - result.warming - result.deadLettered),
      12,
    );
    expect(result.timeToFirstAlert.runs).toBe(data.anomalyRows.length - 2); // 500–502 is one run
    expect(result.timeToFirstAlert.detected).toBeGreaterThan(0);
    expect(result.scores).toHaveLength(900);
    // Warming rows have no score (they rank lowest).
    expect(result.scores!.slice(0, result.warming).every((s) => s === null)).toBe(true);
    // The second protocol: the scored rows alone, the warming rows left out rather than ranked lowest.
    expect(result.scoredRows).toBe(900 - result.warming);
    const planted = new Set(data.anomalyRows);
    const labels = result.scores!.map((_, i) => planted.has(i));
    const kept = result.scores!.flatMap((s, i) => (s === null ? [] : [{ s, l: labels[i]! }]));
    expect(kept).toHaveLength(result.scoredRows);
    const keptScores = kept.map((k) => k.s);
    const keptLabels = kept.map((k) => k.l);
    expect(result.rocAucScoredOnly).toBeCloseTo(rocAuc(keptScores, keptLabels), 12);
    expect(result.prAucScoredOnly).toBeCloseTo(averagePrecision(keptScores, keptLabels), 12);
    const allRows = result.scores!.map((s) => s ?? Number.NEGATIVE_INFINITY);
    expect(result.rocAuc).toBeCloseTo(rocAuc(allRows, labels), 12);
    expect(result.eventsPerSecond).toBeGreaterThan(0);
    const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as TabularResult;
    expect(json.rocAuc).toBe(result.rocAuc);
    expect(json.rocAucScoredOnly).toBe(result.rocAucScoredOnly);
    expect(json.timeToFirstAlert).toEqual(result.timeToFirstAlert);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html.match(/<figure class="chart"><svg/g)).toHaveLength(4);
    expect(html).toContain('Threshold options');
    expect(html).not.toMatch(/<script/);
  });

  it('is repeatable with the same seed', async () => {
    const again = await evaluateTabular({
      file: data.csv,
      overrides: FAST_TABULAR,
      seed: 4,
      includeScores: true,
    });
    expect(again.scores).toEqual(result.scores);
  });

  it('says which score ranks the rows: −log p(x), or the latent log-prior with model.score: latent', async () => {
    expect(result.scoreDefinition).toMatch(/^−log p\(x\) in nats/);
    const latent = await evaluateTabular({
      file: data.csv,
      overrides: { ...FAST_TABULAR, model: { ...FAST_TABULAR.model, score: 'latent' } },
      seed: 4,
    });
    expect(latent.configUsed.model.score).toBe('latent');
    expect(latent.scoreDefinition).toMatch(/^−log p_prior\(f\(x\)\) \(model\.score: latent/);
    // The planted anomalies are 8σ out in one feature: far in the latent's tails too.
    expect(latent.rocAuc).toBeGreaterThan(0.9);
  });

  it('runs from the CLI on a gzip file with a config file, a seed and a row limit', async () => {
    const cfg = join(dir, 'cfg.yaml');
    await writeFile(cfg, stringify(FAST_TABULAR));
    const out = join(dir, 'cli');
    const cli = cliFromSource([
      'evaluate',
      'tabular',
      data.gz,
      '-c',
      cfg,
      '--seed',
      '9',
      '--out',
      out,
      '--max-rows',
      '400',
    ]);
    const { stdout } = await run(cli.file, cli.args, {
      cwd: REPO_ROOT,
      env: { ...process.env, FLOWSENTINEL_BACKEND: process.env.FLOWSENTINEL_BACKEND ?? 'cpu' },
    });
    expect(stdout).toMatch(
      /ROC-AUC\s+[01]\.\d{4} all rows, warm-up ranked lowest; [01]\.\d{4} scored rows only/,
    );
    const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as TabularResult;
    expect(json).toMatchObject({ rows: 400, seed: 9, configSource: cfg, dataset: 'planted' });
    expect(json.scores).toBeUndefined();
  });
});

describe('labelled CSV parsing', () => {
  it('reads labels and rejects a missing label column or a bad label', () => {
    const t = parseLabelledCsv('a,b,label\n1,2,0\n3,4,1\n', 'label');
    expect(t.labels).toEqual([false, true]);
    expect(t.rows[1]).toEqual({ a: '3', b: '4', label: '1' });
    expect(parseLabelledCsv('a,label\n1,0\n2,1\n3,0\n', 'label', 2).rows).toHaveLength(2);
    expect(() => parseLabelledCsv('a,b\n1,2\n', 'label')).toThrow(/--label-column/);
    expect(() => parseLabelledCsv('a,label\n1,7\n', 'label')).toThrow(InvalidOptionError);
  });
});
