/**
 * The timeline of one univariate series (NAB report): the series values on top, with labelled anomaly
 * windows shaded and alerts marked on the values, and the anomaly score on a second, shorter track below
 * (as 1 − score on a log scale), with the threshold; one time axis (UTC) and one legend for both tracks.
 */
import type * as vl from 'vega-lite';
import type { Band, ScorePoint } from './evaluation-charts.js';
import { type LegendEntry, legendColor } from './legend.js';
import { logTicks } from './ticks.js';

/** A point of a series: time (epoch ms) and value. */
export interface ValuePoint {
  readonly x: number;
  readonly value: number;
}

/** Options of `seriesTimelineSpec`. */
export interface SeriesTimelineOptions {
  readonly title: string;
  /** The series values, in time order (thin long series with `thinMinMax`). */
  readonly values: readonly ValuePoint[];
  /** Anomaly score per point in [0, 1] (thin with `thinTimeline`). */
  readonly scores: readonly ScorePoint[];
  /** Labelled anomaly windows, epoch ms. */
  readonly windows: readonly Band[];
  /** Alerts: the points flagged, at their values. */
  readonly alerts: readonly ValuePoint[];
  /** The threshold drawn on the score track. */
  readonly threshold?: { readonly value: number; readonly label: string };
  readonly width?: number;
}

/** Layer names, so tests and readers can find each layer's marks (`<name>_marks` in the SVG). */
export const SERIES_LAYERS = {
  values: 'series_values',
  scores: 'series_scores',
  alerts: 'series_alerts',
  windows: 'series_windows',
  threshold: 'series_threshold',
} as const;

const COLORS = {
  windows: '#f8c58c',
  values: '#4c78a8',
  alerts: '#e45756',
  score: '#54a24b',
  threshold: '#333333',
} as const;

/** The time axis; its domain is the data's (the values span the series), not rounded. */
function timeEncoding(bottom: boolean, field = 'x'): Record<string, unknown> {
  return {
    field,
    type: 'temporal',
    title: bottom ? 'time (UTC)' : null,
    scale: { type: 'utc', nice: false },
    // The top track shares the bottom one's time axis: no axis of its own.
    axis: bottom ? { tickCount: 10, grid: true } : null,
  };
}

/**
 * Where the score track bottoms out: it plots 1 − score on a log scale (scores cluster just below 1, where
 * a linear axis would put every threshold on one pixel), and a score of 1 (e.g. a range breakout) is drawn
 * at this level, the top of the track.
 */
export const SCORE_FLOOR = 1e-6;

function windowsLayer(
  o: SeriesTimelineOptions,
  bottom: boolean,
  color: LegendColor,
): Record<string, unknown> {
  return {
    name: bottom ? `${SERIES_LAYERS.windows}_score` : SERIES_LAYERS.windows,
    data: { values: [...o.windows] },
    mark: { type: 'rect', opacity: 0.6 },
    encoding: {
      x: timeEncoding(bottom, 'start'),
      x2: { field: 'end' },
      color: color('labelled anomaly window'),
    },
  };
}

type LegendColor = (label: string) => Record<string, unknown>;

function valueTrack(o: SeriesTimelineOptions, color: LegendColor): Record<string, unknown> {
  const y = { field: 'value', type: 'quantitative', title: 'value', scale: { zero: false, nice: false } };
  const layers: Record<string, unknown>[] = [
    {
      name: SERIES_LAYERS.values,
      data: { values: [...o.values] },
      mark: { type: 'line', strokeWidth: 0.8 },
      encoding: {
        x: timeEncoding(false),
        y: { ...y, axis: { tickCount: 6, grid: true } },
        color: color('series value'),
      },
    },
  ];
  if (o.windows.length > 0) layers.unshift(windowsLayer(o, false, color));
  if (o.alerts.length > 0) {
    layers.push({
      name: SERIES_LAYERS.alerts,
      data: { values: [...o.alerts] },
      mark: { type: 'point', filled: true, size: 30 },
      encoding: { x: timeEncoding(false), y, color: color('alert (detection)') },
    });
  }
  return { height: 150, width: o.width ?? 900, layer: layers };
}

function scoreTrack(o: SeriesTimelineOptions, color: LegendColor): Record<string, unknown> {
  const surprise = (score: number) => Math.min(1, Math.max(1 - score, SCORE_FLOOR));
  const y = {
    field: 'surprise',
    type: 'quantitative',
    title: '1 − score (log)',
    scale: { type: 'log', domain: [SCORE_FLOOR, 1], reverse: true, nice: false },
    axis: { values: logTicks(SCORE_FLOOR, 1, 4), format: '~r', grid: true },
  };
  const layers: Record<string, unknown>[] = [
    {
      name: SERIES_LAYERS.scores,
      data: { values: o.scores.map((p) => ({ x: p.x, surprise: surprise(p.score) })) },
      mark: { type: 'line', strokeWidth: 0.7 },
      encoding: { x: timeEncoding(true), y, color: color('anomaly score') },
    },
  ];
  if (o.windows.length > 0) layers.unshift(windowsLayer(o, true, color));
  if (o.threshold) {
    layers.push({
      name: SERIES_LAYERS.threshold,
      data: { values: [{ surprise: surprise(o.threshold.value) }] },
      mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1 },
      encoding: { y: { field: 'surprise', type: 'quantitative' }, color: color(o.threshold.label) },
    });
  }
  return { height: 90, width: o.width ?? 900, layer: layers };
}

/** A series timeline in two tracks: values (with windows and alerts) above, anomaly score below. */
export function seriesTimelineSpec(o: SeriesTimelineOptions): vl.TopLevelSpec {
  const entries: LegendEntry[] = [
    { label: 'series value', color: COLORS.values },
    ...(o.windows.length > 0 ? [{ label: 'labelled anomaly window', color: COLORS.windows }] : []),
    ...(o.alerts.length > 0 ? [{ label: 'alert (detection)', color: COLORS.alerts }] : []),
    { label: 'anomaly score', color: COLORS.score },
    ...(o.threshold ? [{ label: o.threshold.label, color: COLORS.threshold }] : []),
  ];
  const color = (label: string) => legendColor(entries, label);
  return {
    title: o.title,
    vconcat: [valueTrack(o, color), scoreTrack(o, color)],
    spacing: 6,
    resolve: { scale: { color: 'shared' }, legend: { color: 'shared' } },
  } as unknown as vl.TopLevelSpec;
}

/**
 * At most about `max` points: the series cut into max/2 equal buckets, each represented by its lowest and
 * its highest value in time order, so the drawn line keeps the series' extent and its spikes both ways.
 * Shorter series are returned as they are.
 */
export function thinMinMax(points: readonly ValuePoint[], max: number): ValuePoint[] {
  if (points.length <= max) return [...points];
  const buckets = Math.max(1, Math.floor(max / 2));
  const size = points.length / buckets;
  const out: ValuePoint[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * size);
    const to = Math.min(points.length, Math.floor((b + 1) * size));
    let lo = from;
    let hi = from;
    for (let i = from; i < to; i++) {
      if (points[i]!.value < points[lo]!.value) lo = i;
      if (points[i]!.value > points[hi]!.value) hi = i;
    }
    if (to <= from) continue;
    out.push(points[Math.min(lo, hi)]!);
    if (lo !== hi) out.push(points[Math.max(lo, hi)]!);
  }
  return out;
}
