/**
 * The words of the NAB report: which anomaly score the run used, read from the config it ran with (so the
 * page cannot call a p-value score an anomaly likelihood), and the "how to read this" paragraph.
 */
import type { NabEvaluation } from './nab-types.js';

/** The config fields the description reads; looked up loosely, so a new scoring kind is named as it is. */
interface ScoringView {
  readonly enabled?: unknown;
  readonly score?: unknown;
  readonly rangeTolerance?: unknown;
  readonly threshold?: unknown;
  readonly averagingWindow?: unknown;
  readonly historyEvents?: unknown;
}

function breakout(s: ScoringView): string {
  const tol = typeof s.rangeTolerance === 'number' ? s.rangeTolerance : Number.NaN;
  if (!(tol >= 0)) return '';
  return `, raised to 1 on a range breakout (a value beyond the range seen so far by more than ${+(100 * tol).toFixed(2)} % of that range)`;
}

function baseScore(s: ScoringView, window: number | undefined): string {
  switch (s.score) {
    case 'pvalue':
      return `p-value score (timeseries.scoring.score: pvalue): 1 − p, with p the tail p-value of the point's log-likelihood among the series' recent${window === undefined ? '' : ` ${window}`} log-likelihoods`;
    case 'likelihood':
      return `anomaly likelihood (timeseries.scoring.score: likelihood): HTM-style, the mean of −log p over the last ${String(s.averagingWindow)} points against the distribution of −log p over the last ${String(s.historyEvents)}`;
    default:
      return `timeseries.scoring.score: ${String(s.score)}`;
  }
}

/** One sentence naming the anomaly score of the run, its alert level and the repeat suppression. */
export function describeNabScoring(r: NabEvaluation): string {
  const ts = (r.configUsed as { timeseries?: { scoring?: ScoringView } }).timeseries;
  const s = ts?.scoring;
  const dedupe =
    r.dedupeWindow > 0
      ? ` A point keeps its score only if it beats every score of the previous ${r.dedupeWindow} points (else 0), so one episode makes one detection.`
      : '';
  if (s?.enabled === true) {
    const t = r.configUsed.threshold;
    const window = 'window' in t && typeof t.window === 'number' ? t.window : undefined;
    const level = typeof s.threshold === 'number' ? ` Alerts: score ≥ ${s.threshold}.` : '';
    return `Anomaly score: the detector's per-series ${baseScore(s, window)}${breakout(s)}.${level}${dedupe}`;
  }
  return `Anomaly score: TailScore of the log-likelihood (timeseries.scoring off): d/(1 + d), d = (m − log p)/(m − t), m the running mean log p of unflagged points, t the threshold in force; 0.5 at the configured threshold.${dedupe}`;
}

/** The paragraph at the top of the NAB report. */
export const HOW_TO_READ_NAB =
  'Each series ran through a fresh detector, point by point, scored before it learned each point. ' +
  'The NAB score rewards the first detection inside each labelled anomaly window (more the earlier it comes), charges every detection outside the windows as a false positive and every window without one as a miss; 0 is a detector that never fires, 100 one that fires at the start of every window and nowhere else. ' +
  'Fixed = the threshold of the config, what you get in production; optimised = the single best threshold over the corpus, chosen on the labels, what published NAB scores mean. ' +
  '"Picking a threshold" plots the score against 1 − threshold on a log scale (left = stricter). ' +
  'The per-series table counts windows found and missed and false alerts at the configured threshold; each series chart shows its values with the windows shaded and the alerts marked, and the anomaly score below.';
