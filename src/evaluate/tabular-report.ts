/** The HTML report of a tabular evaluation: numbers, ROC/PR curves, threshold trade-offs, score timeline, config. */
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { renderSvg } from '../report/charts.js';
import {
  type Band,
  curvesSpec,
  prSpec,
  rocSpec,
  type ScorePoint,
  scoreTimelineSpec,
  thinTimeline,
} from '../report/evaluation-charts.js';
import { type ReportSection, renderHtmlReport } from '../report/html.js';
import { type CurvePoint, rocAuc, thinCurve, thresholdCurve } from './metrics.js';
import type { TabularDetail, TabularResult } from './tabular-types.js';

/** Formats a metric for the tables: 4 significant decimals, '–' for NaN. */
export function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

const MAX_CURVE_POINTS = 400;
const MAX_TIMELINE_POINTS = 2000;

/** Realised alert rate beside the configured one, e.g. "1.02 % (configured 1.00 %, 1.02×)". */
export function alertRateText(r: TabularResult): string {
  const realised = `${fmt(100 * r.realisedAlertRate, 2)} %`;
  if (!Number.isFinite(r.configuredAlertRate)) return `${realised} (static threshold: no configured rate)`;
  const ratio = r.realisedAlertRate / r.configuredAlertRate;
  return `${realised} (configured ${fmt(100 * r.configuredAlertRate, 2)} %, ${fmt(ratio, 2)}×)`;
}

function numbers(d: TabularDetail): ReportSection {
  const r = d.result;
  const t = r.timeToFirstAlert;
  return {
    kind: 'table',
    heading: 'Results',
    rows: [
      ['dataset', `${r.dataset} (${r.file})`],
      ['rows', `${r.rows} (${r.anomalies} labelled anomalies, ${fmt((100 * r.anomalies) / r.rows, 2)}%)`],
      ['warming / dead-lettered', `${r.warming} / ${r.deadLettered}`],
      ['ROC-AUC, all rows (warm-up ranked lowest)', fmt(r.rocAuc)],
      ['ROC-AUC, scored rows only', `${fmt(r.rocAucScoredOnly)} (${r.scoredRows} rows)`],
      ['PR-AUC (average precision), all rows', `${fmt(r.prAuc)} (chance ${fmt(r.anomalies / r.rows)})`],
      ['PR-AUC, scored rows only', fmt(r.prAucScoredOnly)],
      ['at the configured threshold', `${r.flagged} flagged, ${r.truePositives} of them labelled anomalies`],
      ['precision / recall / F1', `${fmt(r.precision)} / ${fmt(r.recall)} / ${fmt(r.f1)}`],
      ['alert rate (flagged / scored rows)', alertRateText(r)],
      ['alerts per 10k events', fmt(r.alertsPer10k, 1)],
      [
        'time to first alert (events)',
        `${t.detected} of ${t.runs} anomaly runs detected; delay mean ${fmt(t.mean, 1)}, median ${fmt(t.median, 1)}, max ${fmt(t.max, 0)}`,
      ],
      ['throughput', `${fmt(r.eventsPerSecond, 0)} events/s (${fmt(r.elapsedSeconds, 1)} s)`],
      ['seed / config', `${r.seed} / ${r.configSource}`],
      ['ranking score', r.scoreDefinition],
    ],
  };
}

/** Precision and recall against the share of rows flagged, for picking an alert budget. */
function tradeOffSpec(d: TabularDetail, curve: readonly CurvePoint[]) {
  const n = d.labels.length;
  const points = thinCurve(
    curve.filter((p) => Number.isFinite(p.threshold)),
    MAX_CURVE_POINTS,
  ).flatMap((p) => [
    { x: (p.tp + p.fp) / n, y: p.precision, series: 'precision' },
    { x: (p.tp + p.fp) / n, y: p.recall, series: 'recall' },
  ]);
  const flaggedShare = d.result.flagged / n;
  return curvesSpec({
    title: 'Precision and recall by alert budget',
    xTitle: 'share of rows flagged (log scale)',
    yTitle: 'precision / recall',
    yDomain: [0, 1],
    xLog: true,
    xFormat: '~%',
    points,
    ...(flaggedShare > 0 ? { rule: { x: flaggedShare, label: 'configured threshold' } } : {}),
  });
}

/** Alert budgets shown in the threshold table, as shares of rows flagged. */
const BUDGETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1];

/** What a fixed −log p(x) threshold would give at a few alert budgets. */
export function thresholdTable(d: TabularDetail, curve: readonly CurvePoint[]): ReportSection {
  const n = d.labels.length;
  const finite = curve.filter((p) => Number.isFinite(p.threshold));
  const rows = BUDGETS.flatMap((share) => {
    // The last threshold flagging at most `share` of the rows.
    let pick: CurvePoint | undefined;
    for (const p of finite) if ((p.tp + p.fp) / n <= share) pick = p;
    if (pick === undefined) return [];
    const f1 = pick.tp > 0 ? (2 * pick.precision * pick.recall) / (pick.precision + pick.recall) : 0;
    return [
      [
        `${fmt(100 * share, 2)}%`,
        fmt(-pick.threshold, 2),
        String(pick.tp + pick.fp),
        fmt(pick.precision, 3),
        fmt(pick.recall, 3),
        fmt(f1, 3),
      ],
    ];
  });
  return {
    kind: 'grid',
    heading: 'Threshold options',
    columns: ['alert budget', 'static logLikelihood', 'rows flagged', 'precision', 'recall', 'F1'],
    rows,
  };
}

/** The runs of consecutive true flags as bands [first − ½, last + ½] of row indices. */
export function flagRuns(flags: readonly boolean[]): Band[] {
  const bands: Band[] = [];
  for (let i = 0; i < flags.length; i++) {
    if (!flags[i]) continue;
    const start = i;
    while (i + 1 < flags.length && flags[i + 1]) i++;
    bands.push({ start: start - 0.5, end: i + 0.5 });
  }
  return bands;
}

function timelineSpec(d: TabularDetail) {
  const at = (i: number): ScorePoint => ({ x: i, score: d.ranking[i]! });
  const finite = (p: ScorePoint) => Number.isFinite(p.score);
  const all = d.ranking.map((_, i) => at(i)).filter(finite);
  const truth = d.labels.flatMap((l, i) => (l ? [at(i)] : [])).filter(finite);
  const alerts = d.flagged.flatMap((f, i) => (f ? [at(i)] : [])).filter(finite);
  const threshold = thinTimeline(
    d.thresholds.map((t, i) => ({ x: i, score: t })).filter(finite),
    MAX_TIMELINE_POINTS,
  );
  return scoreTimelineSpec({
    title: 'Score per row (−log p, higher = more anomalous)',
    points: thinTimeline(all, MAX_TIMELINE_POINTS),
    xType: 'quantitative',
    xTitle: 'row (file order)',
    yTitle: '−log p(x), nats (symmetric log scale)',
    scoreLabel: '−log p(x) per row',
    shaded: { label: 'warm-up rows (not scored)', bands: flagRuns(d.warming) },
    truth,
    alerts,
    threshold,
    ySymlog: true,
  });
}

/** ROC points of `ranking`, at most MAX_CURVE_POINTS. */
function rocPoints(ranking: readonly number[], labels: readonly boolean[]) {
  return thinCurve(thresholdCurve(ranking, labels), MAX_CURVE_POINTS).map((p) => ({
    fpr: p.fpr,
    tpr: p.recall,
  }));
}

/** Both ROC curves: every row (warm-up rows rank lowest), and the rows after warm-up only. */
function rocChart(d: TabularDetail): { spec: ReturnType<typeof rocSpec>; aucAfterWarmup: number } {
  const keep = d.warming.map((w) => !w);
  const ranking = d.ranking.filter((_, i) => keep[i]);
  const labels = d.labels.filter((_, i) => keep[i]);
  const aucAfterWarmup = rocAuc(ranking, labels);
  const spec = rocSpec({
    title: 'ROC, with and without warm-up rows',
    curves: [
      { label: `all rows (AUC ${fmt(d.result.rocAuc, 3)})`, points: rocPoints(d.ranking, d.labels) },
      {
        label: `warm-up rows excluded (AUC ${fmt(aucAfterWarmup, 3)})`,
        points: rocPoints(ranking, labels),
      },
    ],
  });
  return { spec, aucAfterWarmup };
}

/** The paragraph at the top of the report. */
export const HOW_TO_READ_TABULAR =
  'Every row was scored once, in file order, by the model as it was before it learned that row, so nothing here was fitted on the future. ' +
  'The score is −log p(x) in nats: higher means more anomalous. The Results table gives the numbers at the configured threshold (what production would have alerted on) and the threshold-free ROC-AUC and PR-AUC. ' +
  'The ROC chart has two curves: over all rows, where warm-up rows (the detector alerts on none of them) rank lowest and count like missed anomalies, and over the rows after warm-up only; a large gap means the cold start costs you. ' +
  '"Picking a threshold" and its table show what other alert budgets would have given; the score timeline shows where the alerts fell, with the warm-up rows shaded. ' +
  'The config the run used is folded at the bottom.';

/** Renders the report of `detail` to `path`. */
export async function writeTabularReport(path: string, d: TabularDetail): Promise<void> {
  const curve = thresholdCurve(d.ranking, d.labels);
  const pr = thinCurve(curve, MAX_CURVE_POINTS).map((p) => ({ recall: p.recall, precision: p.precision }));
  const r = d.result;
  const roc = rocChart(d);
  const [rocSvg, prSvg, tradeSvg, timeSvg] = await Promise.all([
    renderSvg(roc.spec),
    renderSvg(
      prSpec({
        title: `Precision–recall (AP ${fmt(r.prAuc, 3)})`,
        points: pr,
        baseline: r.anomalies / r.rows,
      }),
    ),
    renderSvg(tradeOffSpec(d, curve)),
    renderSvg(timelineSpec(d)),
  ]);
  const sections: ReportSection[] = [
    { kind: 'text', heading: 'How to read this report', text: HOW_TO_READ_TABULAR },
    numbers(d),
    {
      kind: 'svg',
      heading: 'ROC curve',
      svg: rocSvg,
      caption: `Blue: all ${r.rows} rows; the ${r.warming} warm-up rows rank lowest, so labelled anomalies among them are reached only at false-positive rate 1 (the vertical step there). Orange: the same ranking without the warm-up rows. Dashed: chance.`,
    },
    {
      kind: 'svg',
      heading: 'Precision–recall curve',
      svg: prSvg,
      caption: 'Over all rows. Dashed: chance (the anomaly rate).',
    },
    {
      kind: 'svg',
      heading: 'Picking a threshold',
      svg: tradeSvg,
      caption:
        'Precision and recall if a fixed −log p(x) threshold flagged this share of the rows (in hindsight, over the whole run); the dashed rule is the share the configured threshold flagged.',
    },
    thresholdTable(d, curve),
    {
      kind: 'text',
      text: 'To use a row: set threshold.policy: quantile with quantile = the alert budget (adapts to drift), or threshold.policy: static with logLikelihood = the value shown (fixed).',
    },
    {
      kind: 'svg',
      heading: 'Score timeline',
      svg: timeSvg,
      caption:
        'Blue: score per row (bucket maxima when thinned); grey band: warm-up rows, which have no score; rings: labelled anomalies; red dots: flagged rows; dashed: threshold in force.',
    },
    { kind: 'code', heading: 'Config used', text: stringify(r.configUsed), folded: true },
  ];
  await writeFile(path, renderHtmlReport(`flowsentinel evaluation: ${r.dataset}`, sections));
}
