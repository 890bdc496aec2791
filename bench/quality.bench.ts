/**
 * Quality vs peers, in one run on the same data in the same order: flowsentinel's prequential ROC-AUC and
 * PR-AUC on every tabular set (`evaluateTabular`, config/tabular.yaml) and its NAB score (`evaluateNab`,
 * config/nab.yaml), beside the peers: River's HalfSpaceTrees and Gaussian (bench/python/river_peers.py), an
 * online Mahalanobis Gaussian, a prequential PyTorch RealNVP and scikit-learn's IsolationForest fitted on
 * all rows (bench/python/quality_peers.py). Every online peer scores a row before learning it, in file
 * order. The peers' scores become ROC-AUC, PR-AUC and NAB scores through the same TypeScript functions as
 * flowsentinel's, once with flowsentinel's warm-up mask (primary) and once without (bench/lib/quality-tables.ts).
 *
 *   npm run bench:quality -- [--data=../shared/data] [--datasets=cardio,thyroid] [--nab=on|off]
 *     [--config=config/tabular.yaml] [--seed=42] [--peer-seeds=3] [--jobs=1]
 *
 * --jobs=n evaluates up to n tabular sets at once, each in its own process (bench/lib/quality-worker.ts),
 * with NAB in this one meanwhile; the numbers do not change, only the wall time.
 */

import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionError } from '../src/errors.js';
import { evaluateNab, type NabEvaluation } from '../src/evaluate/nab.js';
import { DEFAULT_DEDUPE_WINDOW, newMaxOnly } from '../src/evaluate/nab-anomaly-score.js';
import { readNabCorpus } from '../src/evaluate/nab-corpus.js';
import { NAB_PROFILE_NAMES, NAB_PROFILES, type NabProfileName, nabScore } from '../src/evaluate/nab-score.js';
import { datasetName, evaluateTabularDetail, type TabularResult } from '../src/evaluate/tabular.js';
import { readLabelledCsv } from '../src/evaluate/tabular-csv.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { lazyProgress } from './lib/progress.js';
import { ensureVenv, runPython } from './lib/python.js';
import { PEER_INFO, type PythonPeerScores, peerResults, type RiverScores } from './lib/quality-peers.js';
import { type TabularRow, tabularTables } from './lib/quality-tables.js';
import { evaluateInChild, pool } from './lib/quality-worker.js';
import { signed, writeResults } from './lib/results.js';
import { markdownTable } from './lib/stats.js';

/** The peers that also run on NAB (univariate). */
const NAB_PEERS = ['hst', 'gaussian'] as const;
type NabPeer = (typeof NAB_PEERS)[number];

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

async function readLabels(file: string): Promise<boolean[]> {
  return [...(await readLabelledCsv(file, 'label')).labels];
}

/** NAB scores (optimised threshold) of the peers, after the same repeat suppression as flowsentinel's. */
async function peerNab(
  dir: string,
  scores: RiverScores,
  dedupe: number,
): Promise<Record<NabPeer, Record<NabProfileName, number>>> {
  const corpus = await readNabCorpus(dir);
  const out = {} as Record<NabPeer, Record<NabProfileName, number>>;
  for (const peer of NAB_PEERS) {
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

function nabTable(fs: NabEvaluation, peers: Record<NabPeer, Record<NabProfileName, number>>): string {
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

/** The tabular row of one set: flowsentinel's result beside every peer's, the peers masked by its warm-up. */
async function tabularRow(
  r: TabularResult,
  file: string,
  river: RiverScores,
  python: PythonPeerScores,
): Promise<TabularRow> {
  if (r.deadLettered > 0) {
    throw new InvalidOptionError(
      `${r.dataset}: ${r.deadLettered} rows did not decode; the peers would see them`,
    );
  }
  return {
    dataset: r.dataset,
    rows: r.rows,
    anomalies: r.anomalies,
    warmup: r.warming,
    flowsentinel: {
      masked: { rocAuc: r.rocAuc, prAuc: r.prAuc },
      scoredOnly: { rocAuc: r.rocAucScoredOnly, prAuc: r.prAucScoredOnly },
      eventsPerSecond: r.eventsPerSecond,
      seconds: r.elapsedSeconds,
      realisedAlertRate: r.realisedAlertRate,
      configuredAlertRate: r.configuredAlertRate,
    },
    peers: peerResults(river, python, file, await readLabels(file), r.warming),
  };
}

/** Starts both Python peer scripts (they run while flowsentinel evaluates: quality does not depend on timing). */
function startPeers(
  python: string,
  files: readonly string[],
  nabFiles: readonly string[],
  seeds: readonly number[],
  out: { river: string; python: string },
): Promise<unknown> {
  const river = runPython(python, 'river_peers.py', [
    'quality',
    '--tabular',
    files.join(','),
    '--nab-files',
    nabFiles.join(','),
    '--out',
    out.river,
  ]);
  const others = runPython(python, 'quality_peers.py', [
    '--tabular',
    files.join(','),
    '--seeds',
    seeds.join(','),
    '--out',
    out.python,
  ]);
  return Promise.all([river, others]);
}

function header(
  configSource: string,
  seed: number,
  seeds: readonly number[],
  load: readonly number[],
): string {
  const peers = Object.values(PEER_INFO)
    .map((p) => p.label)
    .join(', ');
  return (
    `# Quality vs peers\n\nflowsentinel config: ${configSource} (seed ${seed}); peers: ${peers} ` +
    `(bench/README.md; seeded peers: seeds ${seeds.join(', ')}, the first is shown). ` +
    `Command: \`npm run bench:quality -- ${process.argv.slice(2).join(' ')}\`. ` +
    `Load average (1/5/15 min) at the start: ${load.map((l) => l.toFixed(1)).join(' / ')}, ` +
    `at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} on ${cpus().length} cores.\n\n`
  );
}

function nabResults(fsNab: NabEvaluation, nabPeers: Record<NabPeer, Record<NabProfileName, number>>) {
  return {
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
  };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), [
    'data',
    'datasets',
    'nab',
    'config',
    'seed',
    'peer-seeds',
    'jobs',
  ]);
  const dataDir = args.values.get('data') ?? '../shared/data';
  const only = args.values.get('datasets')?.split(',');
  const withNab = (args.values.get('nab') ?? 'on') !== 'off';
  const config = args.values.get('config');
  const seed = Math.round(numberArg(args, 'seed', 42));
  const seeds = Array.from({ length: Math.round(numberArg(args, 'peer-seeds', 3)) }, (_, i) => seed + i);
  const load = loadavg();
  const files = tabularFiles(dataDir, only);
  const nabDir = join(dataDir, 'nab');
  const nabFiles = withNab ? (await readNabCorpus(nabDir)).map((s) => join(nabDir, 'data', s.name)) : [];
  const python = ensureVenv();
  const tmp = await mkdtemp(join(tmpdir(), 'flowsentinel-quality-'));
  try {
    const out = { river: join(tmp, 'river.json'), python: join(tmp, 'peers.json') };
    const peersDone = startPeers(python, files, nabFiles, seeds, out);
    // Awaited below; this only keeps an early failure from being an unhandled rejection meanwhile.
    peersDone.catch(() => undefined);
    const jobs = Math.round(numberArg(args, 'jobs', 1));
    let fsResults: TabularResult[] = [];
    let fsNab: NabEvaluation | undefined;
    const nab = async (): Promise<void> => {
      if (!withNab) return;
      const progress = lazyProgress('NAB'.padEnd(12));
      fsNab = await evaluateNab({
        dir: nabDir,
        seed,
        onProgress: (done, total) => progress.update(done, total),
      }).finally(() => progress.stop());
    };
    if (jobs <= 1) {
      for (const file of files) fsResults.push(await flowsentinelTabular(file, config, seed));
      await nab();
    } else {
      // Largest sets first; NAB runs in this process meanwhile.
      const order = [...files.keys()].sort((a, b) => statSync(files[b]!).size - statSync(files[a]!).size);
      const tasks = order.map(
        (i) => () => evaluateInChild(files[i]!, join(tmp, `fs-${i}.json`), seed, config),
      );
      const [done] = await Promise.all([pool(tasks, jobs), nab()]);
      fsResults = files.map((_, k) => done[order.indexOf(k)]!);
    }
    await peersDone;
    const river = JSON.parse(await readFile(out.river, 'utf8')) as RiverScores;
    const pyPeers = JSON.parse(await readFile(out.python, 'utf8')) as PythonPeerScores;
    const rows: TabularRow[] = [];
    for (const [i, file] of files.entries()) rows.push(await tabularRow(fsResults[i]!, file, river, pyPeers));
    const nabPeers = fsNab ? await peerNab(nabDir, river, fsNab.dedupeWindow) : undefined;
    let text = header(fsResults[0]?.configSource ?? '-', seed, seeds, load) + tabularTables(rows);
    if (fsNab && nabPeers) text += `\n${nabTable(fsNab, nabPeers)}`;
    process.stdout.write(`${text}\n`);
    const path = await writeResults('quality', {
      seed,
      peerSeeds: seeds,
      peerVersions: pyPeers.versions,
      configSource: fsResults[0]?.configSource,
      tabular: rows,
      ...(fsNab && nabPeers ? { nab: nabResults(fsNab, nabPeers) } : {}),
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
