/** The HTML report of a NAB evaluation: score tables, threshold curves, ROC/PR, one timeline per series, config. */
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { renderSvg } from '../report/charts.js';
import { curvesSpec, prSpec, rocSpec, scoreTimelineSpec, thinTimeline } from '../report/evaluation-charts.js';
import { type ReportSection, renderHtmlReport } from '../report/html.js';
import { averagePrecision, rocAuc, thinCurve, thresholdCurve } from './metrics.js';
import { nabCategory, windowLabels } from './nab-corpus.js';
import { NAB_PROFILE_NAMES, NAB_PROFILES, sweepCurve, sweepPoints } from './nab-score.js';
import type { NabDetail } from './nab-types.js';

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');
const MAX_TIMELINE_POINTS = 1500;

function summaryTable(d: NabDetail): ReportSection {
  return {
    kind: 'grid',
    heading: 'NAB scores (normalised: null detector 0, perfect 100)',
    columns: [
      'profile',
      'fixed threshold',
      'optimised threshold',
      'threshold',
      'raw',
      'null',
      'perfect',
      'TP / FP / FN windows',
    ],
    rows: NAB_PROFILE_NAMES.map((p) => {
      const s = d.result.scores[p];
      const t = s.optimised.total;
      return [
        p,
        f1(s.fixed.total.normalised),
        f1(t.normalised),
        s.optimised.threshold.toFixed(4),
        f2(t.raw),
        f2(t.nullScore),
        f2(t.perfectScore),
        `${t.tp} / ${t.fp} / ${t.fn}`,
      ];
    }),
  };
}

function categoryTable(d: NabDetail): ReportSection {
  const categories = [...new Set(d.corpus.map((s) => nabCategory(s.name)))];
  return {
    kind: 'grid',
    heading: 'Per category (normalised; fixed / optimised)',
    columns: ['category', 'series', 'windows', ...NAB_PROFILE_NAMES],
    rows: categories.map((c) => {
      const members = d.corpus.filter((s) => nabCategory(s.name) === c);
      return [
        c,
        String(members.length),
        String(members.reduce((s, m) => s + m.windows.length, 0)),
        ...NAB_PROFILE_NAMES.map((p) => {
          const s = d.result.scores[p];
          return `${f1(s.fixed.categories[c]!.normalised)} / ${f1(s.optimised.categories[c]!.normalised)}`;
        }),
      ];
    }),
  };
}

function seriesTable(d: NabDetail): ReportSection {
  const s = d.result.scores.standard;
  return {
    kind: 'grid',
    heading: 'Per series (standard profile)',
    columns: [
      'series',
      'points',
      'windows',
      'detections',
      'fixed raw',
      'optimised raw',
      'optimised normalised',
      'seconds',
    ],
    rows: d.result.perSeries.map((r) => [
      r.name,
      String(r.points),
      String(r.windows),
      String(r.detections),
      f2(s.fixed.series[r.name]!.raw),
      f2(s.optimised.series[r.name]!.raw),
      f1(s.optimised.series[r.name]!.normalised),
      r.seconds.toFixed(1),
    ]),
  };
}

/** Normalised corpus score at every threshold, per profile. */
function sweepChart(d: NabDetail) {
  const points = NAB_PROFILE_NAMES.flatMap((p) => {
    const profile = NAB_PROFILES[p];
    const total = d.result.scores[p].optimised.total;
    const span = total.perfectScore - total.nullScore;
    const rows = sweepCurve(
      d.corpus.flatMap((s, i) => sweepPoints(s, d.scores[i]!, profile)),
      profile,
    ).filter((r) => r.threshold <= 1);
    return thinCurve(rows, 400).map((r) => ({
      x: r.threshold,
      y: (100 * (r.score - total.nullScore)) / span,
      series: p,
    }));
  });
  return curvesSpec({
    title: 'Normalised NAB score by anomaly-score threshold',
    xTitle: 'anomaly-score threshold',
    yTitle: 'normalised NAB score',
    yDomain: [-100, 100],
    points,
    ...(Number.isFinite(d.result.fixedThreshold)
      ? { rule: { x: d.result.fixedThreshold, label: 'configured threshold' } }
      : {}),
  });
}

function seriesChart(d: NabDetail, i: number, threshold: number) {
  const series = d.corpus[i]!;
  const scores = d.scores[i]!;
  const at = (k: number) => ({ x: series.timestamps[k]!, score: scores[k]! });
  return scoreTimelineSpec({
    title: series.name,
    points: thinTimeline(
      scores.map((_, k) => at(k)),
      MAX_TIMELINE_POINTS,
    ),
    xType: 'temporal',
    xTitle: 'time (UTC)',
    yTitle: 'anomaly score',
    yDomain: [0, 1],
    windows: series.windows.map(([start, end]) => ({ start, end })),
    alerts: d.detections[i]!.flatMap((f, k) => (f ? [at(k)] : [])),
    threshold: [
      { x: series.timestamps[0]!, score: threshold },
      { x: series.timestamps.at(-1)!, score: threshold },
    ],
    height: 160,
  });
}

/** The sweep, ROC, precision–recall and per-series charts as SVG, in that order. */
function renderCharts(
  d: NabDetail,
  flat: readonly number[],
  labels: readonly boolean[],
  threshold: number,
): Promise<[string, string, string, ...string[]]> {
  const curve = thinCurve(thresholdCurve(flat, labels), 400);
  return Promise.all([
    renderSvg(sweepChart(d)),
    renderSvg(
      rocSpec({
        title: `Pointwise ROC (AUC ${f2(rocAuc(flat, labels))})`,
        points: curve.map((p) => ({ fpr: p.fpr, tpr: p.recall })),
      }),
    ),
    renderSvg(
      prSpec({
        title: `Pointwise precision–recall (AP ${f2(averagePrecision(flat, labels))})`,
        points: curve.map((p) => ({ recall: p.recall, precision: p.precision })),
        baseline: labels.filter(Boolean).length / Math.max(labels.length, 1),
      }),
    ),
    ...d.corpus.map((_, i) => renderSvg(seriesChart(d, i, threshold))),
  ]);
}

/** Renders the report of `d` to `path`. */
export async function writeNabReport(path: string, d: NabDetail): Promise<void> {
  const labels = d.corpus.flatMap((s) => windowLabels(s));
  const flat = d.rawScores.flat();
  const threshold = Math.min(d.result.scores.standard.optimised.threshold, 1);
  const [sweepSvg, rocSvg, prSvg, ...seriesSvgs] = await renderCharts(d, flat, labels, threshold);
  const r = d.result;
  const sections: ReportSection[] = [
    {
      kind: 'table',
      heading: 'Run',
      rows: [
        ['corpus', `${r.dir}: ${r.series} series, ${r.windows} windows, ${r.points} points`],
        ['time', `${r.elapsedSeconds.toFixed(0)} s, ${r.eventsPerSecond.toFixed(0)} points/s`],
        ['seed / config', `${r.seed} / ${r.configSource}`],
        ['anomaly score', r.anomalyScore],
        ['repeat suppression', `${r.dedupeWindow} points`],
      ],
    },
    summaryTable(d),
    categoryTable(d),
    {
      kind: 'svg',
      heading: 'Picking a threshold',
      svg: sweepSvg,
      caption:
        'Corpus score if every series used one anomaly-score threshold; the dashed rule is where the configured threshold lies.',
    },
    {
      kind: 'svg',
      heading: 'ROC',
      svg: rocSvg,
      caption:
        'Anomaly scores before repeat suppression; every point inside a window counts as positive. Not a NAB metric.',
    },
    {
      kind: 'svg',
      heading: 'Precision–recall',
      svg: prSvg,
      caption: 'Pointwise, as the ROC. Dashed: chance.',
    },
    seriesTable(d),
    {
      kind: 'text',
      heading: 'Series',
      text: `Orange bands: labelled anomaly windows; red dots: detections at the configured threshold; dashed: the optimised standard-profile threshold (${threshold.toFixed(4)}).`,
    },
    ...seriesSvgs.map((svg): ReportSection => ({ kind: 'svg', svg })),
    { kind: 'code', heading: 'Config used', text: stringify(r.configUsed) },
  ];
  await writeFile(path, renderHtmlReport('flowsentinel NAB evaluation', sections));
}
