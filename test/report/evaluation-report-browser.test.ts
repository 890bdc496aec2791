/**
 * Renders a tabular and a NAB evaluation report (from seeded synthetic results, no detector run) in
 * headless Chromium (Debian's `chromium`, installed by .ci/pre.d/chromium.sh) and checks that every chart
 * drew: an <svg> of non-zero size holding data marks of non-zero size, and no console errors; that each
 * NAB series chart draws the series values over the whole track; that the page opens with its
 * "How to read" paragraph and shows none of the folded config. Without
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
import { writeNabReport } from '../../src/evaluate/nab-report.js';
import { writeTabularReport } from '../../src/evaluate/tabular-report.js';
import { SERIES_LAYERS } from '../../src/report/series-charts.js';
import { isCI } from '../helpers/kafka.js';
import { NAB_FIXTURE, nabDetail, tabularDetail } from './fixtures.js';

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

/** What the page reports about each chart. */
interface ChartCheck {
  readonly width: number;
  readonly height: number;
  /** Data marks (paths inside vega's role-mark groups) with a non-zero bounding box. */
  readonly drawnMarks: number;
  /** The series-values line of a NAB series chart, as laid out: vertices and bounding box (px). */
  readonly values?: { readonly points: number; readonly width: number; readonly height: number };
}

/** What the page shows besides the charts. */
interface PageCheck {
  readonly charts: ChartCheck[];
  readonly errors: string[];
  /** Text of the first <h2> and its paragraph. */
  readonly intro: string;
  /** Every <details> block: open or not, summary, and its height on the page (px). */
  readonly details: { readonly open: boolean; readonly summary: string; readonly height: number }[];
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

  let profiles = 0;
  async function render(file: string): Promise<PageCheck> {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: run bash .ci/pre.d/chromium.sh (it installs Debian's chromium)`,
      );
    }
    const context = await chromium.launchPersistentContext(join(dir, `profile-${++profiles}`), {
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
      const charts = await page.$$eval(
        'figure.chart',
        (figures, valuesClass) =>
          figures.map((f) => {
            type Box = { getBBox(): { width: number; height: number } };
            const svg = f.querySelector('svg');
            const box = svg?.getBoundingClientRect();
            const marks = svg === null ? [] : [...svg.querySelectorAll('g.role-mark path')];
            const drawn = marks.filter((m) => {
              const b = (m as unknown as Box).getBBox();
              return b.width > 0 || b.height > 0;
            });
            const line = svg?.querySelector(`g.${valuesClass} path`);
            const lineBox = line ? (line as unknown as Box).getBBox() : undefined;
            const values =
              line && lineBox
                ? {
                    points: (line.getAttribute('d') ?? '').match(/[ML]/g)?.length ?? 0,
                    width: lineBox.width,
                    height: lineBox.height,
                  }
                : undefined;
            return {
              width: box?.width ?? 0,
              height: box?.height ?? 0,
              drawnMarks: drawn.length,
              ...(values ? { values } : {}),
            };
          }),
        `${SERIES_LAYERS.values}_marks`,
      );
      const intro = await page.$eval('h2', (h) => `${h.textContent} ${h.nextElementSibling?.textContent}`);
      const details = await page.$$eval('details', (ds) =>
        ds.map((d) => ({
          open: (d as unknown as { open: boolean }).open,
          summary: d.querySelector('summary')?.textContent ?? '',
          height: d.getBoundingClientRect().height,
        })),
      );
      return { charts, errors, intro, details };
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

  /** The config is one closed <details> block: nothing of it is shown until opened. */
  function expectFoldedConfig(page: PageCheck): void {
    expect(page.details).toEqual([{ open: false, summary: 'Config used', height: expect.any(Number) }]);
    // The summary line only (the config itself is 100+ lines).
    expect(page.details[0]!.height).toBeGreaterThan(10);
    expect(page.details[0]!.height).toBeLessThan(80);
    expect(page.intro).toMatch(/^How to read this report \S/);
  }

  it('draws every chart of a tabular report, with the intro on top and the config folded', async () => {
    const file = join(dir, 'tabular.html');
    await writeTabularReport(file, tabularDetail());
    const page = await render(file);
    expectDrawn(page.charts, 4);
    expectFoldedConfig(page);
    expect(page.errors).toEqual([]);
  });

  it('draws every chart of a NAB report, one two-track timeline per series with its values', async () => {
    const file = join(dir, 'nab.html');
    await writeNabReport(file, nabDetail());
    const page = await render(file);
    expectDrawn(page.charts, 3 + NAB_FIXTURE.length);
    expectFoldedConfig(page);
    // The values line spans the whole track (900 × 150 px: the scale runs from the first to the last time
    // and from the lowest to the highest value), one vertex per point up to the thinning limit.
    NAB_FIXTURE.forEach((f, i) => {
      const values = page.charts[3 + i]!.values;
      expect(values?.points).toBe(Math.min(f.points, 1500));
      expect(values?.width).toBeCloseTo(900, 0);
      expect(values?.height).toBeCloseTo(150, 0);
    });
    expect(page.charts.slice(0, 3).every((c) => c.values === undefined)).toBe(true);
    expect(page.errors).toEqual([]);
  });
});
