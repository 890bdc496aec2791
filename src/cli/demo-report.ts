import type { AppConfig } from '../config/schema.js';
import { createRng } from '../core/rng.js';
import type { DetectorParts } from '../detector/factory.js';
import { createDriftMonitor } from '../job/parts.js';
import { densitySpec, renderSvg, type TimelinePoint, timelineSpec } from '../report/charts.js';
import { type ReportSection, renderHtmlReport } from '../report/html.js';
import type { ScoredEvent } from '../streams/types.js';
import type { DemoDriftEvent } from './demo-types.js';

/** Inputs of the demo report. */
export interface DemoReportInput {
  readonly config: AppConfig;
  readonly scored: readonly ScoredEvent[];
  readonly truth: (s: ScoredEvent) => boolean;
  readonly parts: DetectorParts;
  /** Raw values of the first two features, row-major [x0, y0, x1, y1, …], aligned with `scored`. */
  readonly xy: Float32Array;
  readonly extraRows?: readonly (readonly [string, string])[];
  /** The injected drift episode (stream indices) and the drift events of the run. */
  readonly drift?: {
    readonly injected: { readonly start: number; readonly end: number } | null;
    readonly events: readonly DemoDriftEvent[];
  };
}

const MAX_LINE_POINTS = 2500;

/** Per-bin minimum log-likelihood, so that dips (anomalies) survive downsampling. */
function downsample(scored: readonly ScoredEvent[]): TimelinePoint[] {
  const step = Math.max(1, Math.ceil(scored.length / MAX_LINE_POINTS));
  const out: TimelinePoint[] = [];
  for (let i = 0; i < scored.length; i += step) {
    let best = i;
    for (let j = i; j < Math.min(i + step, scored.length); j++) {
      if (scored[j]!.logLikelihood < scored[best]!.logLikelihood) best = j;
    }
    out.push({ t: best, value: scored[best]!.logLikelihood });
  }
  return out;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)))] ?? 0;
}

async function timelineSection(input: DemoReportInput): Promise<ReportSection> {
  const { scored, truth } = input;
  const lls = scored.map((s) => s.logLikelihood).sort((a, b) => a - b);
  const lo = Math.min(quantile(lls, 0.002) - 20, quantile(lls, 0.5) - 40);
  const hi = (lls[lls.length - 1] ?? 0) + 2;
  const points = downsample(scored);
  const marks = scored.flatMap((s, t): TimelinePoint[] =>
    s.isAnomaly || truth(s) ? [{ t, value: s.logLikelihood, flagged: s.isAnomaly, truth: truth(s) }] : [],
  );
  const threshold =
    input.config.threshold.policy === 'pvalue'
      ? []
      : downsample(scored.map((s) => ({ ...s, logLikelihood: s.threshold }))).filter((p) =>
          Number.isFinite(p.value),
        );
  const warmEnd = scored.findIndex((s) => s.status === 'scored');
  const svg = await renderSvg(
    timelineSpec({
      title: 'Log-likelihood per event (min per bin), threshold and anomalies',
      points: [...points, ...marks],
      threshold,
      yTitle: 'log-likelihood (nats, clamped)',
      yDomain: [lo, hi],
      ...(warmEnd > 0 ? { bands: [{ start: 0, end: warmEnd, label: 'warm-up' }] } : {}),
    }),
  );
  return {
    kind: 'svg',
    heading: 'Score timeline',
    svg,
    caption:
      'Blue: log-likelihood (lowest per bin). Dashed red: threshold. Red dots: flagged. Black rings: injected anomalies. Shaded: warm-up. Values below the axis are drawn at its bottom.',
  };
}

/** Log-density cells of a 32 × 32 histogram of (sx, sy) over the box [x0, x1] × [y0, y1]. */
function histogram2d(
  sx: readonly number[],
  sy: readonly number[],
  [x0, x1]: readonly [number, number],
  [y0, y1]: readonly [number, number],
): { x: number; x2: number; y: number; y2: number; logDensity: number }[] {
  const n = sx.length;
  const bins = 32;
  const counts = new Float64Array(bins * bins);
  for (let i = 0; i < n; i++) {
    const bx = Math.floor(((sx[i]! - x0) / (x1 - x0)) * bins);
    const by = Math.floor(((sy[i]! - y0) / (y1 - y0)) * bins);
    if (bx >= 0 && bx < bins && by >= 0 && by < bins) counts[by * bins + bx]! += 1;
  }
  const area = ((x1 - x0) / bins) * ((y1 - y0) / bins);
  const grid = [];
  for (let by = 0; by < bins; by++) {
    for (let bx = 0; bx < bins; bx++) {
      const c = counts[by * bins + bx]!;
      if (c === 0) continue;
      const xa = x0 + (bx * (x1 - x0)) / bins;
      const ya = y0 + (by * (y1 - y0)) / bins;
      grid.push({
        x: xa,
        x2: xa + (x1 - x0) / bins,
        y: ya,
        y2: ya + (y1 - y0) / bins,
        logDensity: Math.log(c / (n * area)),
      });
    }
  }
  return grid;
}

async function densitySection(input: DemoReportInput): Promise<ReportSection> {
  const { parts, config, xy, scored } = input;
  const n = 20000;
  const samples = parts.flow.sample(n, createRng(config.model.seed + 99));
  const z = (await samples.data()) as Float32Array;
  samples.dispose();
  const d = parts.flow.dim;
  const mean = parts.standardiser.getMean();
  const std = parts.standardiser.std();
  const sx = Array.from({ length: n }, (_, i) => z[i * d]! * std[0]! + mean[0]!);
  const sy = Array.from({ length: n }, (_, i) => z[i * d + 1]! * std[1]! + mean[1]!);
  const px: number[] = [];
  const py: number[] = [];
  for (let i = 0; i < xy.length / 2; i++) {
    px.push(xy[2 * i]!);
    py.push(xy[2 * i + 1]!);
  }
  const sortedX = [...px].sort((a, b) => a - b);
  const sortedY = [...py].sort((a, b) => a - b);
  const [x0, x1] = [quantile(sortedX, 0.001), quantile(sortedX, 0.999)];
  const [y0, y1] = [quantile(sortedY, 0.001), quantile(sortedY, 0.999)];
  const grid = histogram2d(sx, sy, [x0, x1], [y0, y1]);
  const stride = Math.max(1, Math.floor(px.length / 3000));
  const points = [];
  for (let i = 0; i < px.length; i += stride) {
    if (px[i]! >= x0 && px[i]! <= x1 && py[i]! >= y0 && py[i]! <= y1) {
      points.push({ x: px[i]!, y: py[i]!, flagged: scored[i]?.isAnomaly === true });
    }
  }
  const [fx, fy] = config.features.fields;
  const svg = await renderSvg(
    densitySpec({
      title: `Learned density vs data: ${fx} × ${fy}`,
      xTitle: fx ?? 'x',
      yTitle: fy ?? 'y',
      grid,
      points,
    }),
  );
  return {
    kind: 'svg',
    heading: 'Learned density against the data',
    svg,
    caption: `Colour: log density of ${n} samples drawn from the final model (2-D histogram, feature units). Points: observed events (red = flagged).`,
  };
}

/**
 * Drift score after each event. The monitor is a pure function of the scored sequence, so a fresh one
 * fed the run's events one at a time reproduces the live score exactly (not after a checkpoint restore).
 */
function driftTrace(
  config: AppConfig,
  scored: readonly ScoredEvent[],
): { t: number; value: number | null }[] {
  const monitor = createDriftMonitor(config);
  if (monitor === undefined) return [];
  const step = Math.max(1, Math.ceil(scored.length / MAX_LINE_POINTS));
  const out: { t: number; value: number | null }[] = [];
  scored.forEach((s, i) => {
    monitor.observe([s]);
    const score = monitor.snapshot().score;
    // A null breaks the line where the window refills after a reference reset.
    if (Number.isFinite(score)) {
      if (i % step === 0) out.push({ t: i, value: score });
    } else if (out.length > 0 && out.at(-1)!.value !== null) out.push({ t: i, value: null });
  });
  return out;
}

interface Band {
  readonly start: number;
  readonly end: number;
  readonly label: string;
}

/** Detected drift windows: from the first event past the level to the end event (or the stream's end). */
function detectedBands(scored: readonly ScoredEvent[], events: readonly DemoDriftEvent[]): Band[] {
  const bands: Band[] = [];
  for (const d of events) {
    if (d.event.kind !== 'started') continue;
    const start = scored.findIndex((s) => s.timestamp >= d.event.startedAt);
    const end = events.find((e) => e.event.kind === 'ended' && e.event.id === d.event.id)?.index;
    bands.push({ start, end: end ?? scored.length - 1, label: 'detected drift' });
  }
  return bands;
}

async function driftSection(input: DemoReportInput): Promise<ReportSection | null> {
  const { config, scored } = input;
  const points = driftTrace(config, scored);
  if (points.length === 0) return null;
  const injected = input.drift?.injected;
  const events = input.drift?.events ?? [];
  const bands: Band[] = [
    ...(injected ? [{ start: injected.start, end: injected.end - 1, label: 'injected drift' }] : []),
    ...detectedBands(scored, events),
  ];
  const x = { field: 't', type: 'quantitative', title: 'event index', scale: { domain: [0, scored.length] } };
  const y = { field: 'value', type: 'quantitative', title: 'drift score (reference σ)' };
  const colour = {
    field: 'label',
    type: 'nominal',
    title: null,
    scale: { domain: ['injected drift', 'detected drift'], range: ['#9d9d9d', '#e45756'] },
  };
  const marks = events.map((d) => ({ t: d.index, kind: d.event.kind }));
  const spec = {
    title: 'Density drift score, level and drift windows',
    width: 900,
    height: 200,
    layer: [
      {
        data: { values: bands },
        mark: { type: 'rect', opacity: 0.18 },
        encoding: { x: { ...x, field: 'start' }, x2: { field: 'end' }, color: colour },
      },
      {
        data: { values: points },
        mark: { type: 'line', strokeWidth: 0.8, color: '#4c78a8' },
        encoding: { x, y },
      },
      {
        data: { values: [{ value: config.drift.level }] },
        mark: { type: 'rule', color: '#e45756', strokeDash: [4, 3] },
        encoding: { y },
      },
      { data: { values: marks }, mark: { type: 'rule', color: 'black', strokeWidth: 1 }, encoding: { x } },
    ],
  };
  const svg = await renderSvg(spec as unknown as Parameters<typeof renderSvg>[0]);
  return {
    kind: 'svg',
    heading: 'Density drift',
    svg,
    caption: `Blue: drift score = (reference − window mean log-likelihood) / reference σ over the last ${config.drift.window} scored events (reference: the first ${config.drift.referenceEvents} scored events). Dashed red: level ${config.drift.level}. Grey: injected drift. Red: detected drift (score past the level until the drift ended). Black rules: drift events (started once the score stayed past the level for ${config.drift.forMs / 60_000} min of event time).`,
  };
}

/** Renders the demo's self-contained HTML report. */
export async function writeDemoReport(
  input: DemoReportInput,
  summary: readonly (readonly [string, string])[],
): Promise<string> {
  const sections: ReportSection[] = [
    { kind: 'table', heading: 'Summary', rows: [...summary, ...(input.extraRows ?? [])] },
    await timelineSection(input),
  ];
  const drift = await driftSection(input);
  if (drift !== null) sections.push(drift);
  if (input.parts.flow.dim >= 2) sections.push(await densitySection(input));
  return renderHtmlReport('flowsentinel demo report', sections);
}
