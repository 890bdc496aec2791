/**
 * Renders a tabular and a NAB evaluation report (from seeded synthetic results, no detector run) in
 * headless Chromium (Debian's `chromium`, installed by .ci/pre.d/chromium.sh) and checks that every chart
 * drew: an <svg> of non-zero size holding data marks of non-zero size, and no console errors. Without
 * /usr/bin/chromium (or $FLOWSENTINEL_CHROMIUM) the suite is skipped with one loud line, except under CI,
 * where it fails.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createRng } from '../../src/core/rng.js';
import type { NabDetail } from '../../src/evaluate/nab.js';
import { writeNabReport } from '../../src/evaluate/nab-report.js';
import type { NabSeries } from '../../src/evaluate/nab-score.js';
import { scoreNabCorpus } from '../../src/evaluate/nab-scoring.js';
import type { TabularDetail } from '../../src/evaluate/tabular.js';
import { writeTabularReport } from '../../src/evaluate/tabular-report.js';
import { isCI } from '../helpers/kafka.js';

/** Debian's chromium; FLOWSENTINEL_CHROMIUM points elsewhere. */
const CHROMIUM = process.env.FLOWSENTINEL_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function tabularDetail(): TabularDetail {
  const rng = createRng(3);
  const n = 1500;
  const labels = Array.from({ length: n }, (_, i) => i > 200 && i % 50 === 0);
  const ranking = labels.map((l, i) => (i < 200 ? Number.NEGATIVE_INFINITY : rng.normal() + (l ? 4 : 0)));
  const flagged = ranking.map((s) => s > 2.5);
  const config = loadConfig({ env: {}, overrides: { features: { fields: ['x0', 'x1'] } } });
  const result = {
    mode: 'tabular',
    dataset: 'synthetic',
    file: 'synthetic.csv',
    rows: n,
    anomalies: labels.filter(Boolean).length,
    warming: 200,
    deadLettered: 0,
    rocAuc: 0.97,
    prAuc: 0.8,
    scoredRows: 1300,
    rocAucScoredOnly: 0.98,
    prAucScoredOnly: 0.82,
    precision: 0.7,
    recall: 0.8,
    f1: 0.75,
    flagged: flagged.filter(Boolean).length,
    truePositives: 20,
    configuredAlertRate: 0.01,
    realisedAlertRate: 0.02,
    alertsPer10k: 200,
    timeToFirstAlert: { runs: 26, detected: 20, missed: 6, mean: 0, median: 0, max: 0 },
    scoreDefinition: '−log p(x)',
    configSource: 'built-in defaults',
    configUsed: config,
    seed: 42,
    eventsPerSecond: 1000,
    elapsedSeconds: 1.5,
  } as const;
  return {
    result,
    ranking,
    labels,
    flagged,
    thresholds: ranking.map((_, i) => (i < 200 ? Number.NaN : 2.5)),
  };
}

function nabDetail(): NabDetail {
  const rng = createRng(4);
  const step = 300_000;
  const make = (name: string, n: number, window?: number): NabSeries => {
    const timestamps = Array.from({ length: n }, (_, i) => Date.UTC(2015, 0, 1) + i * step);
    return {
      name,
      timestamps,
      values: timestamps.map(() => rng.normal()),
      windows: window === undefined ? [] : [[timestamps[window - 20]!, timestamps[window + 20]!]],
    };
  };
  const corpus = [make('catA/a.csv', 800, 600), make('catA/b.csv', 500), make('catB/c.csv', 3000, 2000)];
  const scores = corpus.map((s) =>
    s.timestamps.map((t, i) => {
      const inside = s.windows.some(([a, b]) => t >= a && t <= b);
      return Math.min(0.999, Math.max(0, 0.3 * rng.uniform() + (inside && i % 7 === 0 ? 0.6 : 0)));
    }),
  );
  const detections = scores.map((row) => row.map((v) => v > 0.5));
  const scoring = scoreNabCorpus(corpus, scores, detections);
  const config = loadConfig({
    env: {},
    overrides: { features: { fields: ['value'] }, timeseries: { enabled: true } },
  });
  const result: NabDetail['result'] = {
    mode: 'nab',
    dir: 'synthetic',
    detector: 'flowsentinel',
    series: corpus.length,
    windows: 2,
    points: 4300,
    profiles: {
      standard: { threshold: 0.5, raw: 0, nullScore: -2, perfectScore: 2, normalised: 50 },
      reward_low_FP: { threshold: 0.5, raw: 0, nullScore: -2, perfectScore: 2, normalised: 50 },
      reward_low_FN: { threshold: 0.5, raw: 0, nullScore: -4, perfectScore: 2, normalised: 66 },
    },
    scores: scoring,
    perSeries: corpus.map((s, i) => ({
      name: s.name,
      points: s.values.length,
      windows: s.windows.length,
      detections: detections[i]!.filter(Boolean).length,
      seconds: 1,
    })),
    dedupeWindow: 100,
    anomalyScore: 'synthetic',
    fixedThreshold: 0.5,
    configSource: 'built-in defaults',
    configUsed: config,
    seed: 3,
    eventsPerSecond: 1000,
    elapsedSeconds: 4.3,
  };
  return { result, corpus, scores, rawScores: scores, detections };
}

/** What the page reports about each chart. */
interface ChartCheck {
  readonly width: number;
  readonly height: number;
  /** Data marks (paths inside vega's role-mark groups) with a non-zero bounding box. */
  readonly drawnMarks: number;
}

const present = existsSync(CHROMIUM);
if (!present && !isCI()) {
  process.stderr.write(
    `!!! BROWSER: ${CHROMIUM} not found; the evaluation-report browser test is SKIPPED. Install it with: bash .ci/pre.d/chromium.sh\n`,
  );
}

describe.skipIf(!present && !isCI())('evaluation reports in headless Chromium', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fs-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function render(file: string): Promise<{ charts: ChartCheck[]; errors: string[] }> {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: run bash .ci/pre.d/chromium.sh (it installs Debian's chromium)`,
      );
    }
    const context = await chromium.launchPersistentContext(join(dir, `profile-${Date.now()}`), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      const charts = await page.$$eval('figure.chart', (figures) =>
        figures.map((f) => {
          const svg = f.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          const marks = svg === null ? [] : [...svg.querySelectorAll('g.role-mark path')];
          const drawn = marks.filter((m) => {
            const b = (m as unknown as { getBBox(): { width: number; height: number } }).getBBox();
            return b.width > 0 || b.height > 0;
          });
          return { width: box?.width ?? 0, height: box?.height ?? 0, drawnMarks: drawn.length };
        }),
      );
      return { charts, errors };
    } finally {
      await context.close();
    }
  }

  function expectDrawn(charts: readonly ChartCheck[], count: number): void {
    expect(charts).toHaveLength(count);
    for (const c of charts) {
      expect(c.width).toBeGreaterThan(100);
      expect(c.height).toBeGreaterThan(100);
      expect(c.drawnMarks).toBeGreaterThan(0);
    }
  }

  it('draws every chart of a tabular report', async () => {
    const file = join(dir, 'tabular.html');
    await writeTabularReport(file, tabularDetail());
    const { charts, errors } = await render(file);
    expectDrawn(charts, 4);
    expect(errors).toEqual([]);
  });

  it('draws every chart of a NAB report, one timeline per series', async () => {
    const file = join(dir, 'nab.html');
    await writeNabReport(file, nabDetail());
    const { charts, errors } = await render(file);
    expectDrawn(charts, 3 + 3);
    expect(errors).toEqual([]);
  });
});
