/** The markdown tables bench:quality prints for the tabular sets (docs/evaluation.md holds a copy). */

import { type Auc, PEER_INFO, PEERS, type Peer, type PeerResult, SEEDED_PEERS } from './quality-peers.js';
import { signed } from './results.js';
import { markdownTable } from './stats.js';

/** One tabular set's numbers. */
export interface TabularRow {
  readonly dataset: string;
  readonly rows: number;
  readonly anomalies: number;
  /** Rows flowsentinel did not score (warming): the mask W every peer gets in the primary table. */
  readonly warmup: number;
  readonly flowsentinel: {
    /** All rows, warming rows ranked lowest (the primary protocol). */
    readonly masked: Auc;
    /** The scored rows only. */
    readonly scoredOnly: Auc;
    readonly eventsPerSecond: number;
    readonly seconds: number;
    /** Flagged / scored rows, and the rate the threshold config promises (NaN for static). */
    readonly realisedAlertRate: number;
    readonly configuredAlertRate: number;
  };
  readonly peers: Record<Peer, PeerResult>;
}

type Protocol = 'masked' | 'unmasked';
type Metric = keyof Auc;

const ONLINE = PEERS.filter((p) => PEER_INFO[p].online);
const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function ours(r: TabularRow, protocol: Protocol, metric: Metric): number {
  return protocol === 'masked' ? r.flowsentinel.masked[metric] : r.flowsentinel.scoredOnly[metric];
}

function theirs(r: TabularRow, peer: Peer, protocol: Protocol, metric: Metric): number {
  return r.peers[peer][protocol][metric];
}

function bestOnline(r: TabularRow, protocol: Protocol, metric: Metric): number {
  return Math.max(...ONLINE.map((p) => theirs(r, p, protocol, metric)));
}

/** One metric under one protocol: a row per set, then the means. */
function metricTable(rows: readonly TabularRow[], protocol: Protocol, metric: Metric): string {
  const header = ['dataset', 'rows', 'anomalies', ...(protocol === 'masked' ? ['W'] : [])];
  header.push('flowsentinel', ...PEERS.map((p) => PEER_INFO[p].label), 'best online', 'Δ vs best online');
  header.push('Δ vs IForest');
  const line = (label: string, n: string, a: string, w: string, values: readonly number[]): string[] => {
    const [fs, ...peers] = values as [number, ...number[]];
    const best = Math.max(...ONLINE.map((p) => peers[PEERS.indexOf(p)]!));
    const iforest = peers[PEERS.indexOf('iforest')]!;
    return [
      label,
      n,
      a,
      ...(protocol === 'masked' ? [w] : []),
      ...values.map(f3),
      f3(best),
      signed(fs - best, 3),
      signed(fs - iforest, 3),
    ];
  };
  const values = (r: TabularRow): number[] => [
    ours(r, protocol, metric),
    ...PEERS.map((p) => theirs(r, p, protocol, metric)),
  ];
  const body = rows.map((r) =>
    line(r.dataset, String(r.rows), String(r.anomalies), String(r.warmup), values(r)),
  );
  const columns = rows.map(values);
  const means = columns[0]!.map((_, j) => mean(columns.map((c) => c[j]!)));
  const total = (f: (r: TabularRow) => number): string => String(rows.reduce((s, r) => s + f(r), 0));
  // The mean row's "best online" is the best per set, averaged; the summary line names the best peer.
  const meanRow = line(
    'mean',
    total((r) => r.rows),
    total((r) => r.anomalies),
    '-',
    means,
  );
  meanRow[meanRow.length - 3] = f3(mean(rows.map((r) => bestOnline(r, protocol, metric))));
  meanRow[meanRow.length - 2] = signed(means[0]! - mean(rows.map((r) => bestOnline(r, protocol, metric))), 3);
  return markdownTable(header, [...body, meanRow]);
}

/** Issue 15's acceptance on the primary table, as one sentence. */
function acceptance(rows: readonly TabularRow[], protocol: Protocol): string {
  const met = rows.filter((r) => ours(r, protocol, 'rocAuc') >= bestOnline(r, protocol, 'rocAuc')).length;
  const fsMean = mean(rows.map((r) => ours(r, protocol, 'rocAuc')));
  const peerMeans = ONLINE.map((p) => ({ p, m: mean(rows.map((r) => theirs(r, p, protocol, 'rocAuc'))) }));
  const best = peerMeans.reduce((a, b) => (b.m > a.m ? b : a));
  const ifMean = mean(rows.map((r) => theirs(r, 'iforest', protocol, 'rocAuc')));
  const ok = (b: boolean): string => (b ? 'met' : 'missed');
  return (
    `flowsentinel ≥ the best online peer on ${met} of ${rows.length} sets (target: all). ` +
    `Mean ROC-AUC ${f3(fsMean)}; best online peer by mean: ${PEER_INFO[best.p].label} ${f3(best.m)} ` +
    `(Δ ${signed(fsMean - best.m, 3)}, target ≥ +0.020: ${ok(fsMean >= best.m + 0.02)}); ` +
    `IForest (batch) ${f3(ifMean)} (Δ ${signed(fsMean - ifMean, 3)}, target ≥ -0.020: ${ok(fsMean >= ifMean - 0.02)}).`
  );
}

/** Masked ROC-AUC of each seed of the seeded peers, and the spread (max − min). */
function seedTable(rows: readonly TabularRow[]): string {
  const seeded = SEEDED_PEERS.filter((p) => rows.some((r) => (r.peers[p].seedRocAuc?.length ?? 0) > 1));
  if (seeded.length === 0) return '';
  const header = ['dataset', ...seeded.flatMap((p) => [`${PEER_INFO[p].label} per seed`, 'spread'])];
  const body = rows.map((r) => [
    r.dataset,
    ...seeded.flatMap((p) => {
      const s = r.peers[p].seedRocAuc ?? [];
      return [s.map(f3).join(' / '), f3(Math.max(...s) - Math.min(...s))];
    }),
  ]);
  return `### Seed spread of the seeded peers (ROC-AUC, warm-up mask)\n\n${markdownTable(header, body)}\n`;
}

/** Realised alert rate (flagged / scored rows) beside the configured one; target 0.5–1.5×. */
function alertRateTable(rows: readonly TabularRow[]): string {
  const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(2)} %` : 'n/a');
  const ratio = (r: TabularRow): number =>
    r.flowsentinel.realisedAlertRate / r.flowsentinel.configuredAlertRate;
  const met = rows.filter((r) => ratio(r) >= 0.5 && ratio(r) <= 1.5).length;
  const table = markdownTable(
    ['dataset', 'anomalies', 'configured', 'realised', 'realised / configured'],
    rows.map((r) => [
      r.dataset,
      pct(r.anomalies / r.rows),
      pct(r.flowsentinel.configuredAlertRate),
      pct(r.flowsentinel.realisedAlertRate),
      Number.isFinite(ratio(r)) ? `${ratio(r).toFixed(2)}×` : 'n/a',
    ]),
  );
  return `### Realised alert rate (target: 0.5–1.5× the configured rate — met on ${met} of ${rows.length})\n\n${table}\n`;
}

/** Every tabular table: primary (masked) ROC-AUC and PR-AUC, the unmasked pair, seed spread, alert rate. */
export function tabularTables(rows: readonly TabularRow[]): string {
  const masked = "all rows; the first W rows (flowsentinel's warm-up) ranked lowest for every detector";
  const unmasked =
    'flowsentinel over its scored rows only (rows W+1…); every peer over all rows on its own scores';
  return [
    `### ROC-AUC, warm-up mask (primary: ${masked})\n\n${acceptance(rows, 'masked')}\n\n${metricTable(rows, 'masked', 'rocAuc')}\n`,
    `### PR-AUC (average precision), warm-up mask\n\n${metricTable(rows, 'masked', 'prAuc')}\n`,
    `### ROC-AUC, no mask (${unmasked})\n\n${metricTable(rows, 'unmasked', 'rocAuc')}\n`,
    `### PR-AUC, no mask\n\n${metricTable(rows, 'unmasked', 'prAuc')}\n`,
    seedTable(rows),
    alertRateTable(rows),
  ]
    .filter((s) => s !== '')
    .join('\n');
}
