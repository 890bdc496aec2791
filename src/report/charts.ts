import * as vega from 'vega';
import * as vl from 'vega-lite';

/**
 * Renders a Vega-Lite spec to a standalone SVG string, headless (no browser, no canvas), so reports are
 * self-contained files that open offline.
 */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A point of a time series chart. */
export interface TimelinePoint {
  readonly t: number;
  readonly value: number;
  readonly flagged?: boolean;
  readonly truth?: boolean;
}

/**
 * Score timeline: log-likelihood per event (line), the threshold (rule/line), flagged events (red points)
 * and ground-truth anomalies (hollow black rings) when known.
 */
export function timelineSpec(opts: {
  readonly title: string;
  readonly points: readonly TimelinePoint[];
  readonly threshold?: readonly { t: number; value: number }[];
  readonly yTitle: string;
  readonly yDomain?: readonly [number, number];
  readonly bands?: readonly { start: number; end: number; label: string }[];
}): vl.TopLevelSpec {
  const scale = opts.yDomain ? { domain: [...opts.yDomain], clamp: true } : { zero: false };
  const y = { field: 'value', type: 'quantitative' as const, title: opts.yTitle, scale };
  const x = { field: 't', type: 'quantitative' as const, title: 'event index' };
  const layers: Record<string, unknown>[] = [
    {
      data: { values: [...opts.points] },
      mark: { type: 'line', strokeWidth: 0.6, color: '#4c78a8' },
      encoding: { x, y },
    },
  ];
  if (opts.bands && opts.bands.length > 0) {
    layers.unshift({
      data: { values: [...opts.bands] },
      mark: { type: 'rect', opacity: 0.15, color: '#f58518' },
      encoding: { x: { field: 'start', type: 'quantitative' }, x2: { field: 'end' } },
    });
  }
  if (opts.threshold && opts.threshold.length > 0) {
    layers.push({
      data: { values: [...opts.threshold] },
      mark: { type: 'line', color: '#e45756', strokeDash: [4, 3], strokeWidth: 1.2 },
      encoding: { x, y },
    });
  }
  layers.push({
    data: { values: opts.points.filter((p) => p.flagged) },
    mark: { type: 'point', filled: true, color: '#e45756', size: 30 },
    encoding: { x, y },
  });
  layers.push({
    data: { values: opts.points.filter((p) => p.truth) },
    mark: { type: 'point', filled: false, color: 'black', size: 80 },
    encoding: { x, y },
  });
  return { title: opts.title, width: 900, height: 260, layer: layers } as unknown as vl.TopLevelSpec;
}

/** Scatter of data points over a heatmap of the learned density for two features. */
export function densitySpec(opts: {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly grid: readonly { x: number; y: number; x2: number; y2: number; logDensity: number }[];
  readonly points: readonly { x: number; y: number; flagged: boolean }[];
}): vl.TopLevelSpec {
  return {
    title: opts.title,
    width: 420,
    height: 420,
    layer: [
      {
        data: { values: [...opts.grid] },
        mark: { type: 'rect' },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: opts.xTitle, scale: { zero: false } },
          x2: { field: 'x2' },
          y: { field: 'y', type: 'quantitative', title: opts.yTitle, scale: { zero: false } },
          y2: { field: 'y2' },
          color: {
            field: 'logDensity',
            type: 'quantitative',
            title: 'log density',
            scale: { scheme: 'viridis' },
          },
        },
      },
      {
        data: { values: [...opts.points] },
        mark: { type: 'point', size: 6, opacity: 0.6, filled: true },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'y', type: 'quantitative' },
          color: {
            field: 'flagged',
            type: 'nominal',
            scale: { domain: [false, true], range: ['white', '#e45756'] },
            legend: null,
          },
        },
      },
    ],
  };
}
