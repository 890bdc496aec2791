/**
 * Vega-Lite specs of the evaluation report: ROC and precision–recall curves, a score timeline with
 * labelled anomalies, alerts, the threshold and shaded bands, and metric-versus-threshold curves. Every
 * chart has axis titles with units, ticks spaced for its scale, and a legend naming each layer.
 * Render them with `renderSvg` (charts.ts).
 */
import type * as vl from 'vega-lite';
import { type LegendEntry, legendColor } from './legend.js';
import { finiteExtent, logTicks, symlogTicks } from './ticks.js';

type Layer = Record<string, unknown>;

function spec(title: string, width: number, height: number, layers: Layer[]): vl.TopLevelSpec {
  return { title, width, height, layer: layers } as unknown as vl.TopLevelSpec;
}

/** Ticks 0, 0.1, …, 1 with grid lines: the axis of a rate. */
const RATE_AXIS = {
  values: Array.from({ length: 11 }, (_, i) => i / 10),
  format: '.1f',
  grid: true,
};

function rateEncoding(field: string, title: string): Layer {
  return { field, type: 'quantitative', title, scale: { domain: [0, 1] }, axis: RATE_AXIS };
}

/** Colours of the curves of a ROC chart, in order. */
const CURVE_COLORS = ['#4c78a8', '#f58518', '#54a24b', '#b279a2'];

/** One labelled curve of a ROC chart. */
export interface RocCurve {
  /** Legend label, e.g. "all rows (AUC 0.912)". */
  readonly label: string;
  readonly points: readonly { readonly fpr: number; readonly tpr: number }[];
}

/** ROC curves (TPR against FPR, each from (0, 0)) with the chance diagonal and a legend. */
export function rocSpec(opts: {
  readonly title: string;
  readonly curves: readonly RocCurve[];
}): vl.TopLevelSpec {
  const x = rateEncoding('fpr', 'false positive rate (share of normal rows flagged)');
  const y = rateEncoding('tpr', 'true positive rate (recall)');
  const entries: LegendEntry[] = [
    ...opts.curves.map((c, i) => ({ label: c.label, color: CURVE_COLORS[i % CURVE_COLORS.length]! })),
    { label: 'chance', color: '#bbb' },
  ];
  return spec(opts.title, 380, 340, [
    {
      data: {
        values: [
          { fpr: 0, tpr: 0 },
          { fpr: 1, tpr: 1 },
        ],
      },
      name: 'roc_chance',
      mark: { type: 'line', strokeDash: [4, 3] },
      encoding: { x, y, color: legendColor(entries, 'chance') },
    },
    ...opts.curves.map((c, i) => ({
      name: `roc_curve_${i}`,
      data: { values: [{ fpr: 0, tpr: 0 }, ...c.points] },
      mark: { type: 'line', strokeWidth: 2, interpolate: 'step-after' },
      encoding: { x, y, color: legendColor(entries, c.label) },
    })),
  ]);
}

/** Precision–recall curve with the chance level (the anomaly rate). */
export function prSpec(opts: {
  readonly title: string;
  readonly points: readonly { readonly recall: number; readonly precision: number }[];
  readonly baseline: number;
}): vl.TopLevelSpec {
  const x = rateEncoding('recall', 'recall (share of anomalies flagged)');
  const y = rateEncoding('precision', 'precision (share of flagged that are anomalies)');
  const entries: LegendEntry[] = [
    { label: 'precision–recall', color: '#e45756' },
    { label: 'chance (the anomaly rate)', color: '#bbb' },
  ];
  return spec(opts.title, 380, 340, [
    {
      data: {
        values: [
          { recall: 0, precision: opts.baseline },
          { recall: 1, precision: opts.baseline },
        ],
      },
      mark: { type: 'line', strokeDash: [4, 3] },
      encoding: { x, y, color: legendColor(entries, 'chance (the anomaly rate)') },
    },
    {
      data: { values: [...opts.points] },
      mark: { type: 'line', strokeWidth: 2 },
      encoding: { x, y, color: legendColor(entries, 'precision–recall') },
    },
  ]);
}

/** A point of a score timeline; `x` is an index or epoch ms. */
export interface ScorePoint {
  readonly x: number;
  readonly score: number;
}

/** A shaded x range of a timeline, e.g. warm-up rows or a labelled anomaly window. */
export interface Band {
  readonly start: number;
  readonly end: number;
}

/** Options of `scoreTimelineSpec`. */
export interface ScoreTimelineOptions {
  readonly title: string;
  readonly points: readonly ScorePoint[];
  readonly xType: 'quantitative' | 'temporal';
  readonly xTitle: string;
  readonly yTitle: string;
  /** Legend label of the score line. */
  readonly scoreLabel?: string;
  /** Labelled anomaly windows (orange bands). */
  readonly windows?: readonly Band[];
  /** Grey bands, e.g. warm-up rows, with their legend label. */
  readonly shaded?: { readonly label: string; readonly bands: readonly Band[] };
  readonly truth?: readonly ScorePoint[];
  readonly alerts?: readonly ScorePoint[];
  readonly threshold?: readonly ScorePoint[];
  readonly yDomain?: readonly [number, number];
  /** Symmetric-log y axis, for heavy-tailed scores; ticks at 0, ±1, 2, 5, 10, … */
  readonly ySymlog?: boolean;
  readonly width?: number;
  readonly height?: number;
}

/** Layer names of `scoreTimelineSpec`: each layer's marks are in the SVG group of class `<name>_marks`. */
export const TIMELINE_LAYERS = {
  shaded: 'timeline_shaded',
  windows: 'timeline_windows',
  score: 'timeline_score',
  threshold: 'timeline_threshold',
  truth: 'timeline_truth',
  alerts: 'timeline_alerts',
} as const;

const TIMELINE_COLORS = {
  shaded: '#c7c7c7',
  windows: '#f8c58c',
  score: '#4c78a8',
  threshold: '#333333',
  truth: 'black',
  alerts: '#e45756',
} as const;

function yAxis(o: ScoreTimelineOptions): Layer {
  if (!o.ySymlog) return { tickCount: 6, grid: true };
  const [lo, hi] = finiteExtent([...o.points, ...(o.threshold ?? [])].map((p) => p.score));
  const values = symlogTicks(lo, hi, o.height ?? 220);
  return values.length >= 4 ? { values, grid: true, format: ',~r' } : { tickCount: 6, grid: true };
}

/**
 * Score timeline: the score (line), shaded bands (grey, e.g. warm-up), labelled anomaly windows (orange
 * bands), labelled anomalous events (hollow black rings), alerts (red dots) and the threshold (dashed),
 * any of them optional, with a legend naming the layers present.
 */
export function scoreTimelineSpec(o: ScoreTimelineOptions): vl.TopLevelSpec {
  const axisX = o.xType === 'temporal' ? { tickCount: 8, grid: false } : { tickCount: 10, format: ',d' };
  // Not nice: the axis ends where the data do (a row index axis would otherwise start at −200).
  const x = { field: 'x', type: o.xType, title: o.xTitle, axis: axisX, scale: { nice: false, zero: false } };
  const scale = {
    ...(o.yDomain ? { domain: [...o.yDomain], clamp: true } : { zero: false }),
    // Not nice on symlog: vega would round the domain out to the next power of ten.
    ...(o.ySymlog ? { type: 'symlog', nice: false } : {}),
  };
  const y = { field: 'score', type: 'quantitative', title: o.yTitle, scale, axis: yAxis(o) };
  const present = <T>(xs: readonly T[] | undefined): xs is readonly T[] => xs !== undefined && xs.length > 0;
  const candidates: [string, string, boolean][] = [
    [o.shaded?.label ?? '', TIMELINE_COLORS.shaded, present(o.shaded?.bands)],
    ['labelled anomaly window', TIMELINE_COLORS.windows, present(o.windows)],
    [o.scoreLabel ?? 'score', TIMELINE_COLORS.score, true],
    ['threshold in force', TIMELINE_COLORS.threshold, present(o.threshold)],
    ['labelled anomaly', TIMELINE_COLORS.truth, present(o.truth)],
    ['alert (flagged)', TIMELINE_COLORS.alerts, present(o.alerts)],
  ];
  const entries = candidates.filter(([, , on]) => on).map(([label, color]) => ({ label, color }));
  const color = (label: string) => legendColor(entries, label);
  const band = (name: string, bands: readonly Band[], label: string, opacity: number): Layer => ({
    name,
    data: { values: [...bands] },
    mark: { type: 'rect', opacity },
    encoding: { x: { field: 'start', type: o.xType }, x2: { field: 'end' }, color: color(label) },
  });
  const layers: Layer[] = [];
  if (o.shaded && present(o.shaded.bands))
    layers.push(band(TIMELINE_LAYERS.shaded, o.shaded.bands, o.shaded.label, 0.5));
  if (present(o.windows))
    layers.push(band(TIMELINE_LAYERS.windows, o.windows, 'labelled anomaly window', 0.6));
  const line = (name: string, values: readonly ScorePoint[], label: string, mark: Layer): Layer => ({
    name,
    data: { values: [...values] },
    mark,
    encoding: { x, y, color: color(label) },
  });
  layers.push(
    line(TIMELINE_LAYERS.score, o.points, o.scoreLabel ?? 'score', { type: 'line', strokeWidth: 0.7 }),
  );
  if (present(o.threshold)) {
    layers.push(
      line(TIMELINE_LAYERS.threshold, o.threshold, 'threshold in force', {
        type: 'line',
        strokeDash: [4, 3],
        strokeWidth: 1,
      }),
    );
  }
  if (present(o.truth))
    layers.push(
      line(TIMELINE_LAYERS.truth, o.truth, 'labelled anomaly', { type: 'point', filled: false, size: 50 }),
    );
  if (present(o.alerts))
    layers.push(
      line(TIMELINE_LAYERS.alerts, o.alerts, 'alert (flagged)', { type: 'point', filled: true, size: 25 }),
    );
  return spec(o.title, o.width ?? 900, o.height ?? 220, layers);
}

/** Several named series over a threshold axis, e.g. precision, recall and alert rate, or NAB profiles. */
export function curvesSpec(opts: {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly points: readonly { readonly x: number; readonly y: number; readonly series: string }[];
  /** A vertical rule, e.g. the threshold in force; `label` names it in the legend. */
  readonly rule?: { readonly x: number; readonly label: string };
  readonly yDomain?: readonly [number, number];
  /** Log x axis (x must be > 0), ticked 1-2-5 per decade. */
  readonly xLog?: boolean;
  /** d3 format of the x labels, e.g. '~%' or '~g'. */
  readonly xFormat?: string;
}): vl.TopLevelSpec {
  const scale = opts.yDomain ? { domain: [...opts.yDomain], clamp: true } : { zero: false };
  const xScale = opts.xLog ? { type: 'log' } : { zero: false };
  const xs = [...opts.points.map((p) => p.x), ...(opts.rule ? [opts.rule.x] : [])];
  const [lo, hi] = finiteExtent(xs.filter((v) => !opts.xLog || v > 0));
  const xAxis = {
    ...(opts.xLog ? { values: logTicks(lo, hi, 8) } : { tickCount: 10 }),
    ...(opts.xFormat ? { format: opts.xFormat } : {}),
    grid: true,
  };
  const series = [...new Set(opts.points.map((p) => p.series))];
  const entries: LegendEntry[] = [
    ...series.map((s, i) => ({ label: s, color: CURVE_COLORS[i % CURVE_COLORS.length]! })),
    ...(opts.rule ? [{ label: opts.rule.label, color: '#555' }] : []),
  ];
  const layers: Layer[] = series.map((s) => ({
    data: { values: opts.points.filter((p) => p.series === s) },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: opts.xTitle, scale: xScale, axis: xAxis },
      y: { field: 'y', type: 'quantitative', title: opts.yTitle, scale, axis: { tickCount: 10, grid: true } },
      color: legendColor(entries, s),
    },
  }));
  if (opts.rule) {
    layers.push({
      data: { values: [opts.rule] },
      mark: { type: 'rule', strokeDash: [2, 2] },
      encoding: {
        x: { field: 'x', type: 'quantitative', scale: xScale },
        color: legendColor(entries, opts.rule.label),
      },
    });
  }
  return spec(opts.title, 700, 260, layers);
}

/**
 * At most `max` points: the series cut into equal buckets, each represented by its highest-scoring point,
 * so spikes survive the thinning. Shorter series are returned as they are.
 */
export function thinTimeline(points: readonly ScorePoint[], max: number): ScorePoint[] {
  if (points.length <= max) return [...points];
  const out: ScorePoint[] = [];
  const size = points.length / max;
  for (let b = 0; b < max; b++) {
    let best: ScorePoint | undefined;
    for (let i = Math.floor(b * size); i < Math.min(points.length, Math.floor((b + 1) * size)); i++) {
      const p = points[i]!;
      if (best === undefined || p.score > best.score) best = p;
    }
    if (best !== undefined) out.push(best);
  }
  return out;
}
