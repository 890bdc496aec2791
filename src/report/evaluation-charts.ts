/**
 * Vega-Lite specs of the evaluation report: ROC and precision–recall curves, a score timeline with
 * labelled anomalies, anomaly windows, alerts and the threshold, and metric-versus-threshold curves.
 * Render them with `renderSvg` (charts.ts).
 */
import type * as vl from 'vega-lite';

type Layer = Record<string, unknown>;

function spec(title: string, width: number, height: number, layers: Layer[]): vl.TopLevelSpec {
  return { title, width, height, layer: layers } as unknown as vl.TopLevelSpec;
}

/** ROC curve (TPR against FPR) with the chance diagonal. */
export function rocSpec(opts: {
  readonly title: string;
  readonly points: readonly { readonly fpr: number; readonly tpr: number }[];
}): vl.TopLevelSpec {
  const x = { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } };
  const y = {
    field: 'tpr',
    type: 'quantitative',
    title: 'true positive rate (recall)',
    scale: { domain: [0, 1] },
  };
  return spec(opts.title, 380, 340, [
    {
      data: {
        values: [
          { fpr: 0, tpr: 0 },
          { fpr: 1, tpr: 1 },
        ],
      },
      mark: { type: 'line', color: '#bbb', strokeDash: [4, 3] },
      encoding: { x, y },
    },
    {
      data: { values: [{ fpr: 0, tpr: 0 }, ...opts.points] },
      mark: { type: 'line', color: '#4c78a8', strokeWidth: 2, interpolate: 'step-after' },
      encoding: { x, y },
    },
  ]);
}

/** Precision–recall curve with the chance level (the anomaly rate). */
export function prSpec(opts: {
  readonly title: string;
  readonly points: readonly { readonly recall: number; readonly precision: number }[];
  readonly baseline: number;
}): vl.TopLevelSpec {
  const x = { field: 'recall', type: 'quantitative', title: 'recall', scale: { domain: [0, 1] } };
  const y = { field: 'precision', type: 'quantitative', title: 'precision', scale: { domain: [0, 1] } };
  return spec(opts.title, 380, 340, [
    {
      data: {
        values: [
          { recall: 0, precision: opts.baseline },
          { recall: 1, precision: opts.baseline },
        ],
      },
      mark: { type: 'line', color: '#bbb', strokeDash: [4, 3] },
      encoding: { x, y },
    },
    {
      data: { values: [...opts.points] },
      mark: { type: 'line', color: '#e45756', strokeWidth: 2 },
      encoding: { x, y },
    },
  ]);
}

/** A point of a score timeline; `x` is an index or epoch ms. */
export interface ScorePoint {
  readonly x: number;
  readonly score: number;
}

/**
 * Score timeline: the score (line), labelled anomaly windows (orange bands), labelled anomalous events
 * (hollow black rings), alerts (red dots) and the threshold (dashed line), any of them optional.
 */
export function scoreTimelineSpec(opts: {
  readonly title: string;
  readonly points: readonly ScorePoint[];
  readonly xType: 'quantitative' | 'temporal';
  readonly xTitle: string;
  readonly yTitle: string;
  readonly windows?: readonly { readonly start: number; readonly end: number }[];
  readonly truth?: readonly ScorePoint[];
  readonly alerts?: readonly ScorePoint[];
  readonly threshold?: readonly ScorePoint[];
  readonly yDomain?: readonly [number, number];
  /** Symmetric-log y axis, for heavy-tailed scores. */
  readonly ySymlog?: boolean;
  readonly width?: number;
  readonly height?: number;
}): vl.TopLevelSpec {
  const x = { field: 'x', type: opts.xType, title: opts.xTitle };
  const scale = {
    ...(opts.yDomain ? { domain: [...opts.yDomain], clamp: true } : { zero: false }),
    ...(opts.ySymlog ? { type: 'symlog' } : {}),
  };
  const y = { field: 'score', type: 'quantitative', title: opts.yTitle, scale };
  const layers: Layer[] = [];
  if (opts.windows && opts.windows.length > 0) {
    layers.push({
      data: { values: [...opts.windows] },
      mark: { type: 'rect', color: '#f58518', opacity: 0.2 },
      encoding: { x: { field: 'start', type: opts.xType }, x2: { field: 'end' } },
    });
  }
  layers.push({
    data: { values: [...opts.points] },
    mark: { type: 'line', color: '#4c78a8', strokeWidth: 0.7 },
    encoding: { x, y },
  });
  if (opts.threshold && opts.threshold.length > 0) {
    layers.push({
      data: { values: [...opts.threshold] },
      mark: { type: 'line', color: '#e45756', strokeDash: [4, 3], strokeWidth: 1 },
      encoding: { x, y },
    });
  }
  if (opts.truth && opts.truth.length > 0) {
    layers.push({
      data: { values: [...opts.truth] },
      mark: { type: 'point', filled: false, color: 'black', size: 50 },
      encoding: { x, y },
    });
  }
  if (opts.alerts && opts.alerts.length > 0) {
    layers.push({
      data: { values: [...opts.alerts] },
      mark: { type: 'point', filled: true, color: '#e45756', size: 25 },
      encoding: { x, y },
    });
  }
  return spec(opts.title, opts.width ?? 900, opts.height ?? 220, layers);
}

/** Several named series over a threshold axis, e.g. precision, recall and alert rate, or NAB profiles. */
export function curvesSpec(opts: {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly points: readonly { readonly x: number; readonly y: number; readonly series: string }[];
  /** A vertical rule, e.g. the threshold in force. */
  readonly rule?: { readonly x: number; readonly label: string };
  readonly yDomain?: readonly [number, number];
  /** Log x axis (x must be > 0). */
  readonly xLog?: boolean;
}): vl.TopLevelSpec {
  const scale = opts.yDomain ? { domain: [...opts.yDomain], clamp: true } : { zero: false };
  const xScale = opts.xLog ? { type: 'log' } : { zero: false };
  const layers: Layer[] = [
    {
      data: { values: [...opts.points] },
      mark: { type: 'line', strokeWidth: 1.5 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: opts.xTitle, scale: xScale },
        y: { field: 'y', type: 'quantitative', title: opts.yTitle, scale },
        color: { field: 'series', type: 'nominal', title: null },
      },
    },
  ];
  if (opts.rule) {
    layers.push({
      data: { values: [opts.rule] },
      mark: { type: 'rule', color: '#555', strokeDash: [2, 2] },
      encoding: { x: { field: 'x', type: 'quantitative', scale: xScale } },
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
