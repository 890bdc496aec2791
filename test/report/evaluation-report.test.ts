/**
 * The structure of the tabular and NAB HTML reports (issue 16 item 5, issue 17 item 6), read from the
 * generated HTML/SVG of seeded synthetic evaluations: the "how to read" paragraph, the folded config,
 * titled axes with enough visible, spaced tick labels on every chart, the warm-up band and the two ROC
 * curves of the tabular report; the series values, windows, alerts and score track, the log threshold
 * axis, the scoring description and the per-series counts of the NAB report.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rocAuc } from '../../src/evaluate/metrics.js';
import { writeNabReport } from '../../src/evaluate/nab-report.js';
import { writeTabularReport } from '../../src/evaluate/tabular-report.js';
import { TIMELINE_LAYERS } from '../../src/report/evaluation-charts.js';
import { SERIES_LAYERS } from '../../src/report/series-charts.js';
import {
  NAB_FIXTURE,
  NAB_FIXTURE_THRESHOLD,
  nabDetail,
  TABULAR_ROWS,
  TABULAR_WARMING,
  tabularDetail,
} from './fixtures.js';
import { axes, chartSvgs, layerPaths, legendLabels, minLabelGap, pathPoints } from './svg.js';

let dir: string;
let tabular: string;
let nab: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fs-report-structure-'));
  await writeTabularReport(join(dir, 'tabular.html'), tabularDetail());
  await writeNabReport(join(dir, 'nab.html'), nabDetail());
  tabular = await readFile(join(dir, 'tabular.html'), 'utf8');
  nab = await readFile(join(dir, 'nab.html'), 'utf8');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The h2 headings of a page, in order. */
function headings(html: string): string[] {
  return [...html.matchAll(/<h2>([^<]*)<\/h2>/g)].map((m) => m[1]!);
}

/** Every chart: each axis titled, at least 4 visible tick labels, none hidden, at least 12 px apart. */
function expectReadableAxes(svgs: readonly string[]): void {
  for (const svg of svgs) {
    const found = axes(svg);
    expect(found.filter((a) => a.orient === 'X').length).toBeGreaterThanOrEqual(1);
    expect(found.filter((a) => a.orient === 'Y').length).toBeGreaterThanOrEqual(1);
    for (const a of found) {
      expect(a.title, `${a.orient} axis of ${legendLabels(svg).join(', ')}`).not.toBe('');
      expect(a.labels.length, `ticks of "${a.title}"`).toBeGreaterThanOrEqual(4);
      expect(a.hidden, `overlapping ticks of "${a.title}"`).toBe(0);
      expect(minLabelGap(a), `tick spacing of "${a.title}"`).toBeGreaterThanOrEqual(12);
    }
  }
}

/** The config section: a closed <details> whose summary names it, holding the YAML; no heading of its own. */
function expectFoldedConfig(html: string): void {
  expect(html).toMatch(
    /<details><summary>Config used<\/summary><pre><code>[\s\S]*?backend: [\s\S]*?<\/code><\/pre><\/details>/,
  );
  expect(html).not.toMatch(/<details open/);
  expect(headings(html)).not.toContain('Config used');
}

describe('tabular report', () => {
  it('opens with a "How to read this report" paragraph', () => {
    expect(headings(tabular)[0]).toBe('How to read this report');
    const intro = /<h2>How to read this report<\/h2><p>([^<]*)<\/p>/.exec(tabular)?.[1] ?? '';
    expect(intro).toMatch(/warm-up/);
    expect(intro).toMatch(/ROC/);
  });

  it('folds the config into a closed <details> block', () => {
    expectFoldedConfig(tabular);
  });

  it('gives every chart titled axes with spaced, labelled ticks; the timeline y axis in nats', () => {
    const svgs = chartSvgs(tabular);
    expect(svgs).toHaveLength(4);
    expectReadableAxes(svgs);
    const timelineY = axes(svgs[3]!).find((a) => a.orient === 'Y')!;
    expect(timelineY.scaleType).toBe('symlog');
    expect(timelineY.title).toMatch(/nats/);
    expect(timelineY.labels.length).toBeGreaterThanOrEqual(5);
  });

  it('shades the warm-up rows in the timeline and names them in its legend', () => {
    const timeline = chartSvgs(tabular)[3]!;
    expect(legendLabels(timeline)).toContain('warm-up rows (not scored)');
    const [band, ...more] = layerPaths(timeline, TIMELINE_LAYERS.shaded);
    expect(more).toEqual([]);
    // One rect from the first row to the last warm-up row: x 0, width 900 px × 200/1500 rows.
    const rect = /^M([-\d.]+),([-\d.]+)h([-\d.]+)v([-\d.]+)/.exec(band ?? '');
    expect(rect).not.toBeNull();
    expect(Number(rect![1])).toBeCloseTo(0, 3);
    expect(Number(rect![3])).toBeCloseTo((900 * TABULAR_WARMING) / TABULAR_ROWS, 1);
    expect(Number(rect![4])).toBeCloseTo(220, 3);
    // The score line starts after the band: warm-up rows have no score.
    const score = pathPoints(layerPaths(timeline, TIMELINE_LAYERS.score)[0]!);
    expect(Math.min(...score.map((p) => p.x))).toBeGreaterThan(Number(rect![3]));
  });

  it('draws a second ROC curve without the warm-up rows; the legend gives each its AUC', () => {
    const d = tabularDetail();
    const keep = d.warming.map((w) => !w);
    const after = rocAuc(
      d.ranking.filter((_, i) => keep[i]),
      d.labels.filter((_, i) => keep[i]),
    );
    const roc = chartSvgs(tabular)[0]!;
    expect(legendLabels(roc)).toEqual([
      `all rows (AUC ${d.result.rocAuc.toFixed(3)})`,
      `warm-up rows excluded (AUC ${after.toFixed(3)})`,
      'chance',
    ]);
    expect(after).toBeGreaterThan(d.result.rocAuc);
    // The all-rows curve rises at FPR 1 (x = 380 px): the labelled anomalies among the warm-up rows, which
    // rank lowest. Without them the curve is at TPR 1 (y = 0) before FPR 1.
    const atFpr1 = (name: string) =>
      pathPoints(layerPaths(roc, name)[0]!).filter((p) => Math.abs(p.x - 380) < 1e-6);
    expect(Math.max(...atFpr1('roc_curve_0').map((p) => p.y))).toBeGreaterThan(10);
    expect(atFpr1('roc_curve_1').every((p) => p.y === 0)).toBe(true);
    expect(layerPaths(roc, 'roc_chance')).toHaveLength(1);
  });
});

describe('NAB report', () => {
  it('opens with a "How to read this report" paragraph and folds the config', () => {
    expect(headings(nab)[0]).toBe('How to read this report');
    expectFoldedConfig(nab);
  });

  it('says which scoring is in use, from the config: the p-value score, not the anomaly likelihood', () => {
    const row = /<th>scoring<\/th><td>([^<]*)<\/td>/.exec(nab)?.[1] ?? '';
    expect(row).toMatch(/p-value score \(timeseries\.scoring\.score: pvalue\)/);
    expect(row).toContain(`score ≥ ${NAB_FIXTURE_THRESHOLD}`);
    expect(nab).not.toMatch(/anomaly likelihood/i);
  });

  it('gives every chart titled axes with spaced, labelled ticks', () => {
    const svgs = chartSvgs(nab);
    expect(svgs).toHaveLength(3 + NAB_FIXTURE.length);
    expectReadableAxes(svgs);
  });

  it('plots 1 − threshold on a log x axis in the threshold chart', () => {
    const x = axes(chartSvgs(nab)[0]!).find((a) => a.orient === 'X')!;
    expect(x.scaleType).toBe('log');
    expect(x.title).toMatch(/^1 − anomaly-score threshold/);
    expect(x.labels.map((l) => l.text)).toEqual(expect.arrayContaining(['0.0001', '0.001', '0.01']));
  });

  it('draws each series: every value, full extent, windows shaded, alerts on the values, the score below', () => {
    const d = nabDetail();
    const svgs = chartSvgs(nab).slice(3);
    NAB_FIXTURE.forEach((f, i) => {
      const svg = svgs[i]!;
      const series = d.corpus[i]!;
      const points = pathPoints(layerPaths(svg, SERIES_LAYERS.values)[0]!);
      expect(points).toHaveLength(Math.min(f.points, 1500));
      const lo = Math.min(...series.values);
      const hi = Math.max(...series.values);
      expect(Math.min(...points.map((p) => p.x))).toBeCloseTo(0, 3);
      expect(Math.max(...points.map((p) => p.x))).toBeCloseTo(900, 3);
      expect(Math.min(...points.map((p) => p.y))).toBeCloseTo(0, 3);
      expect(Math.max(...points.map((p) => p.y))).toBeCloseTo(150, 3);
      if (f.points <= 1500) {
        // Unthinned: point k is value k on a 150 px track from the lowest value (bottom) to the highest (top).
        points.forEach((p, k) => {
          expect(p.y).toBeCloseTo((150 * (hi - series.values[k]!)) / (hi - lo), 2);
        });
      }
      expect(layerPaths(svg, SERIES_LAYERS.windows)).toHaveLength(series.windows.length);
      expect(layerPaths(svg, SERIES_LAYERS.alerts)).toHaveLength(d.detections[i]!.filter(Boolean).length);
      expect(pathPoints(layerPaths(svg, SERIES_LAYERS.scores)[0]!).length).toBeGreaterThan(100);
      expect(legendLabels(svg)).toEqual(expect.arrayContaining(['series value', 'anomaly score']));
    });
  });

  it('has a per-series table of windows found and missed and false alerts', () => {
    const d = nabDetail();
    const table = /<h2>Per series \(standard profile\)<\/h2><table class="grid">([\s\S]*?)<\/table>/.exec(
      nab,
    )?.[1];
    expect(table).toBeDefined();
    expect(table).toMatch(/<th>found<\/th><th>missed<\/th><th>false alerts<\/th>/);
    for (const s of d.corpus) {
      const c = d.result.scores.standard.fixed.series[s.name]!;
      const row = `<td>${s.name}</td><td>${s.values.length}</td><td>${s.windows.length}</td><td>${c.tp}</td><td>${c.fn}</td><td>${c.fp}</td>`;
      expect(table).toContain(row);
    }
  });
});
