/**
 * Quality vs peers, in one run on the same data in the same order: flowsentinel's prequential ROC-AUC and
 * PR-AUC on every tabular set (`evaluateTabular`, config/tabular.yaml) and its NAB score (`evaluateNab`,
 * config/nab.yaml), beside River's HalfSpaceTrees and River's Gaussian scorer run by
 * bench/python/river_peers.py with the same score-then-learn protocol. The peers' scores are turned into
 * ROC-AUC, PR-AUC and NAB scores by the same TypeScript functions as flowsentinel's.
 *
 *   npm run bench:quality -- [--data=../shared/data] [--datasets=cardio,thyroid] [--nab=on|off]
 *     [--config=config/tabular.yaml] [--seed=42]
 */

import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionError } from '../src/errors.js';
import { averagePrecision, rocAuc } from '../src/evaluate/metrics.js';
import { evaluateNab, type NabEvaluation } from '../src/evaluate/nab.js';
import { DEFAULT_DEDUPE_WINDOW, newMaxOnly } from '../src/evaluate/nab-anomaly-score.js';
import { readNabCorpus } from '../src/evaluate/nab-corpus.js';
import { NAB_PROFILE_NAMES, NAB_PROFILES, type NabProfileName, nabScore } from '../src/evaluate/nab-score.js';
import { datasetName, evaluateTabularDetail, type TabularResult } from '../src/evaluate/tabular.js';
import { readLabelledCsv } from '../src/evaluate/tabular-csv.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { lazyProgress } from './lib/progress.js';
import { ensureVenv, runPython } from './lib/python.js';
import { signed, writeResults } from './lib/results.js';
import { markdownTable } from './lib/stats.js';

/** Scores the Python peers wrote (see river_peers.py). */
interface PeerScores {
  readonly tabular: Record<string, { rows: number; hst: number[]; gaussian: number[] }>;
  readonly nab: Record<string, { hst: number[]; gaussian: number[] }>;
}

const PEERS = ['hst', 'gaussian'] as const;
type Peer = (typeof PEERS)[number];

/** One tabular set's numbers. */
interface TabularRow {
  readonly dataset: string;
  readonly rows: number;
  readonly anomalies: number;
  readonly flowsentinel: {
    rocAuc: number;
    prAuc: number;
    eventsPerSecond: number;
    seconds: number;
    /** Flagged / scored rows, and the rate the threshold config promises (NaN for static). */
    realisedAlertRate: number;
    configuredAlertRate: number;
  };
  readonly peers: Record<Peer, { rocAuc: number; prAuc: number }>;
}

function tabularFiles(dataDir: string, only: readonly string[] | undefined): string[] {
  const dir = join(dataDir, 'tabular');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.csv.gz') || f.endsWith('.csv'))
    .sort()
    .map((f) => join(dir, f));
  const kept = only === undefined ? files : files.filter((f) => only.includes(datasetName(f)));
  if (kept.length === 0) throw new InvalidOptionError(`no tabular set selected under ${dir}`);
  return kept;
}

async function flowsentinelTabular(
  file: string,
  config: string | undefined,
  seed: number,
): Promise<TabularResult> {
  const progress = lazyProgress(datasetName(file).padEnd(12));
  try {
    const detail = await evaluateTabularDetail({
      file,
      seed,
      ...(config === undefined ? {} : { configFile: config }),
      onProgress: (done, total, flagged) => progress.update(done, total, { anomalies: flagged }),
    });
    return detail.result;
  } finally {
    progress.stop();
  }
}

function peerMetrics(scores: PeerScores, file: string, labels: readonly boolean[]): TabularRow['peers'] {
  const entry = scores.tabular[file];
  if (entry === undefined) throw new InvalidOptionError(`the peers wrote no scores for ${file}`);
  const metric = (s: number[]): { rocAuc: number; prAuc: number } => ({
    rocAuc: rocAuc(s, labels),
    prAuc: averagePrecision(s, labels),
  });
  return { hst: metric(entry.hst), gaussian: metric(entry.gaussian) };
}

async function readLabels(file: string): Promise<boolean[]> {
  return [...(await readLabelledCsv(file, 'label')).labels];
}

/** NAB scores (optimised threshold) of the peers, after the same repeat suppression as flowsentinel's. */
async function peerNab(
  dir: string,
  scores: PeerScores,
  dedupe: number,
): Promise<Record<Peer, Record<NabProfileName, number>>> {
  const corpus = await readNabCorpus(dir);
  const out = {} as Record<Peer, Record<NabProfileName, number>>;
  for (const peer of PEERS) {
    const perSeries = corpus.map((s) => {
      const raw = scores.nab[join(dir, 'data', s.name)]?.[peer];
      if (raw === undefined) throw new InvalidOptionError(`the peers wrote no NAB scores for ${s.name}`);
      return newMaxOnly(raw, dedupe);
    });
    out[peer] = Object.fromEntries(
      NAB_PROFILE_NAMES.map((p) => [p, nabScore(corpus, perSeries, NAB_PROFILES[p]).normalised]),
    ) as Record<NabProfileName, number>;
  }
  return out;
}

function tabularTables(rows: readonly TabularRow[]): string {
  const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
  const table = (metric: 'rocAuc' | 'prAuc'): string =>
    markdownTable(
      ['dataset', 'rows', 'anomalies', 'flowsentinel', 'HST', 'Δ vs HST', 'Gaussian', 'Δ vs Gaussian'],
      rows.map((r) => {
        const fs = r.flowsentinel[metric];
        return [
          r.dataset,
          String(r.rows),
          String(r.anomalies),
          f3(fs),
          f3(r.peers.hst[metric]),
          signed(fs - r.peers.hst[metric], 3),
          f3(r.peers.gaussian[metric]),
          signed(fs - r.peers.gaussian[metric], 3),
        ];
      }),
    );
  const met = rows.filter((r) => r.flowsentinel.rocAuc >= r.peers.hst.rocAuc).length;
  return (
    `### ROC-AUC (target: ≥ HalfSpaceTrees on every set — met on ${met} of ${rows.length})\n\n${table('rocAuc')}\n\n` +
    `### PR-AUC (average precision)\n\n${table('prAuc')}\n\n${alertRateTable(rows)}`
  );
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

function nabTable(fs: NabEvaluation, peers: Record<Peer, Record<NabProfileName, number>>): string {
  const rows = NAB_PROFILE_NAMES.map((p) => {
    const opt = fs.scores[p].optimised.total.normalised;
    return [
      p,
      opt.toFixed(1),
      fs.scores[p].fixed.total.normalised.toFixed(1),
      peers.hst[p].toFixed(1),
      signed(opt - peers.hst[p], 1),
      peers.gaussian[p].toFixed(1),
      signed(opt - peers.gaussian[p], 1),
    ];
  });
  const standard = fs.scores.standard.optimised.total.normalised;
  return (
    `### NAB (${fs.series} series, ${fs.windows} windows; target: standard, optimised ≥ 60 — ` +
    `${standard >= 60 ? 'met' : `missed by ${(60 - standard).toFixed(1)}`})\n\n` +
    `${markdownTable(
      [
        'profile',
        'flowsentinel (optimised)',
        'flowsentinel (fixed)',
        'HST',
        'Δ vs HST',
        'Gaussian',
        'Δ vs Gaussian',
      ],
      rows,
    )}\n`
  );
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), ['data', 'datasets', 'nab', 'config', 'seed']);
  const dataDir = args.values.get('data') ?? '../shared/data';
  const only = args.values.get('datasets')?.split(',');
  const withNab = (args.values.get('nab') ?? 'on') !== 'off';
  const config = args.values.get('config');
  const seed = Math.round(numberArg(args, 'seed', 42));
  const files = tabularFiles(dataDir, only);
  const nabDir = join(dataDir, 'nab');
  const nabFiles = withNab ? (await readNabCorpus(nabDir)).map((s) => join(nabDir, 'data', s.name)) : [];
  const python = ensureVenv();
  const tmp = await mkdtemp(join(tmpdir(), 'flowsentinel-quality-'));
  try {
    const peerOut = join(tmp, 'peers.json');
    // Quality does not depend on timing, so the peers run while flowsentinel evaluates.
    const peersDone = runPython(python, 'river_peers.py', [
      'quality',
      '--tabular',
      files.join(','),
      '--nab-files',
      nabFiles.join(','),
      '--out',
      peerOut,
    ]);
    const fsResults: TabularResult[] = [];
    for (const file of files) fsResults.push(await flowsentinelTabular(file, config, seed));
    let fsNab: NabEvaluation | undefined;
    if (withNab) {
      const progress = lazyProgress('NAB'.padEnd(12));
      fsNab = await evaluateNab({
        dir: nabDir,
        seed,
        onProgress: (done, total) => progress.update(done, total),
      }).finally(() => progress.stop());
    }
    await peersDone;
    const peers = JSON.parse(await readFile(peerOut, 'utf8')) as PeerScores;
    const rows: TabularRow[] = [];
    for (const [i, file] of files.entries()) {
      const r = fsResults[i]!;
      rows.push({
        dataset: r.dataset,
        rows: r.rows,
        anomalies: r.anomalies,
        flowsentinel: {
          rocAuc: r.rocAuc,
          prAuc: r.prAuc,
          eventsPerSecond: r.eventsPerSecond,
          seconds: r.elapsedSeconds,
          realisedAlertRate: r.realisedAlertRate,
          configuredAlertRate: r.configuredAlertRate,
        },
        peers: peerMetrics(peers, file, await readLabels(file)),
      });
    }
    const nabPeers = fsNab ? await peerNab(nabDir, peers, fsNab.dedupeWindow) : undefined;
    let out = `# Quality vs peers\n\nflowsentinel config: ${fsResults[0]?.configSource ?? '-'} (seed ${seed}); `;
    out += `peers: River HalfSpaceTrees, River Gaussian (see bench/README.md)\n\n${tabularTables(rows)}`;
    if (fsNab && nabPeers) out += `\n${nabTable(fsNab, nabPeers)}`;
    process.stdout.write(`${out}\n`);
    const path = await writeResults('quality', {
      seed,
      configSource: fsResults[0]?.configSource,
      tabular: rows,
      ...(fsNab && nabPeers
        ? {
            nab: {
              series: fsNab.series,
              windows: fsNab.windows,
              dedupeWindow: fsNab.dedupeWindow ?? DEFAULT_DEDUPE_WINDOW,
              configSource: fsNab.configSource,
              flowsentinel: Object.fromEntries(
                NAB_PROFILE_NAMES.map((p) => [
                  p,
                  {
                    optimised: fsNab.scores[p].optimised.total.normalised,
                    fixed: fsNab.scores[p].fixed.total.normalised,
                  },
                ]),
              ),
              peers: nabPeers,
            },
          }
        : {}),
    });
    process.stderr.write(`wrote ${path}\n`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
