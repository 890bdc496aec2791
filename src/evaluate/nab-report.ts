/** The HTML report of a NAB evaluation: score tables, threshold curves, ROC/PR, one timeline per series, config. */
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { renderSvg } from '../report/charts.js';
import { curvesSpec, prSpec, rocSpec, thinTimeline } from '../report/evaluation-charts.js';
import { type ReportSection, renderHtmlReport } from '../report/html.js';
import { seriesTimelineSpec, thinMinMax } from '../report/series-charts.js';
import { averagePrecision, rocAuc, thinCurve, thresholdCurve } from './metrics.js';
import { nabCategory, windowLabels } from './nab-corpus.js';
import { describeNabScoring, HOW_TO_READ_NAB } from './nab-report-text.js';
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

/** Per series: windows found and missed and false alerts, at the configured and the optimised threshold. */
export function seriesTable(d: NabDetail): ReportSection {
  const s = d.result.scores.standard;
  const counts = (x: { tp: number; fn: number; fp: number } | undefined) =>
    x === undefined ? ['–', '–', '–'] : [String(x.tp), String(x.fn), String(x.fp)];
  return {
    kind: 'grid',
    heading: 'Per series (standard profile)',
    columns: [
      'series',
      'points',
      'windows',
      'found',
      'missed',
      'false alerts',
      'normalised (fixed / optimised)',
      'at the optimised threshold: found / missed / false',
      'seconds',
    ],
    rows: d.result.perSeries.map((r) => {
      const fixed = s.fixed.series[r.name];
      const opt = s.optimised.series[r.name];
      return [
        r.name,
        String(r.points),
        String(r.windows),
        ...counts(fixed),
        `${f1(fixed?.normalised ?? Number.NaN)} / ${f1(opt?.normalised ?? Number.NaN)}`,
        counts(opt).join(' / '),
        r.seconds.toFixed(1),
      ];
    }),
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
    ).filter((r) => r.threshold < 1);
    return thinCurve(rows, 400).map((r) => ({
      x: 1 - r.threshold,
      y: (100 * (r.score - total.nullScore)) / span,
      series: p,
    }));
  });
  const fixed = d.result.fixedThreshold;
  return curvesSpec({
    title: 'Normalised NAB score by anomaly-score threshold',
    xTitle: '1 − anomaly-score threshold (log scale; left = stricter)',
    yTitle: 'normalised NAB score',
    yDomain: [-100, 100],
    xLog: true,
    xFormat: '~r',
    points,
    ...(fixed < 1 ? { rule: { x: 1 - fixed, label: `configured threshold (${fixed})` } } : {}),
  });
}

function seriesChart(d: NabDetail, i: number) {
  const series = d.corpus[i]!;
  // Before repeat suppression: the suppressed scores are 0 on most points.
  const scores = d.rawScores[i]!;
  const value = (k: number) => ({ x: series.timestamps[k]!, value: series.values[k]! });
  const fixed = d.result.fixedThreshold;
  return seriesTimelineSpec({
    title: series.name,
    values: thinMinMax(
      series.values.map((_, k) => value(k)),
      MAX_TIMELINE_POINTS,
    ),
    scores: thinTimeline(
      scores.map((v, k) => ({ x: series.timestamps[k]!, score: v })),
      MAX_TIMELINE_POINTS,
    ),
    windows: series.windows.map(([start, end]) => ({ start, end })),
    alerts: d.detections[i]!.flatMap((f, k) => (f ? [value(k)] : [])),
    ...(fixed >= 0 && fixed <= 1 ? { threshold: { value: fixed, label: 'configured threshold' } } : {}),
  });
}

/** The sweep, ROC, precision–recall and per-series charts as SVG, in that order. */
function renderCharts(
  d: NabDetail,
  flat: readonly number[],
  labels: readonly boolean[],
): Promise<[string, string, string, ...string[]]> {
  const curve = thinCurve(thresholdCurve(flat, labels), 400);
  return Promise.all([
    renderSvg(sweepChart(d)),
    renderSvg(
      rocSpec({
        title: 'Pointwise ROC',
        curves: [
          {
            label: `every point (AUC ${f2(rocAuc(flat, labels))})`,
            points: curve.map((p) => ({ fpr: p.fpr, tpr: p.recall })),
          },
        ],
      }),
    ),
    renderSvg(
      prSpec({
        title: `Pointwise precision–recall (AP ${f2(averagePrecision(flat, labels))})`,
        points: curve.map((p) => ({ recall: p.recall, precision: p.precision })),
        baseline: labels.filter(Boolean).length / Math.max(labels.length, 1),
      }),
    ),
    ...d.corpus.map((_, i) => renderSvg(seriesChart(d, i))),
  ]);
}

/** Renders the report of `d` to `path`. */
export async function writeNabReport(path: string, d: NabDetail): Promise<void> {
  const labels = d.corpus.flatMap((s) => windowLabels(s));
  const flat = d.rawScores.flat();
  const [sweepSvg, rocSvg, prSvg, ...seriesSvgs] = await renderCharts(d, flat, labels);
  const r = d.result;
  const sections: ReportSection[] = [
    { kind: 'text', heading: 'How to read this report', text: HOW_TO_READ_NAB },
    {
      kind: 'table',
      heading: 'Run',
      rows: [
        ['corpus', `${r.dir}: ${r.series} series, ${r.windows} windows, ${r.points} points`],
        ['time', `${r.elapsedSeconds.toFixed(0)} s, ${r.eventsPerSecond.toFixed(0)} points/s`],
        ['seed / config', `${r.seed} / ${r.configSource}`],
        ['scoring', describeNabScoring(r)],
      ],
    },
    summaryTable(d),
    categoryTable(d),
    {
      kind: 'svg',
      heading: 'Picking a threshold',
      svg: sweepSvg,
      caption:
        'Corpus score if every series used one anomaly-score threshold t, against 1 − t on a log scale (the useful thresholds crowd just below 1); the dashed rule is where the configured threshold lies.',
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
      text: `Top track: the series values; orange bands: labelled anomaly windows; red dots: detections at the configured threshold, on the values. Bottom track: the anomaly score before repeat suppression, drawn as 1 − score on a log scale so that thresholds just below 1 stay apart (up = more anomalous; a score of 1 sits at the top, 10⁻⁶; bucket maxima when thinned), the dashed line the configured threshold; the optimised standard-profile threshold is ${d.result.scores.standard.optimised.threshold.toFixed(4)}.`,
    },
    ...seriesSvgs.map((svg): ReportSection => ({ kind: 'svg', svg })),
    { kind: 'code', heading: 'Config used', text: stringify(r.configUsed), folded: true },
  ];
  await writeFile(path, renderHtmlReport('flowsentinel NAB evaluation', sections));
}
