/**
 * Selection of the tabular default by leave-one-set-out cross-validation (docs/evaluation.md, "The tabular
 * default"): every candidate of bench/lib/tabular-candidates.ts (overrides over config/tabular.yaml that
 * set every knob the candidates vary, so the table does not depend on the default's values of them) is
 * evaluated on every dev set with each seed (`evaluate tabular`, ROC-AUC over all rows with the warm-up
 * rows ranked lowest); its score on a set is the mean over the seeds. Then bench/lib/loso.ts: per held-out
 * set, the candidate with the best worst regret on the other five; the final choice is the best worst
 * regret over all six. Regret: minus the best online peer's ROC-AUC under the same warm-up mask (W rows), from
 * `--peers` (bench:quality results, one per W the candidates have), else minus the best candidate's. The
 * peers are not run here; flowsentinel's runs are cached per (resolved config, seed, set).
 *
 *   npm run bench:tabular-loso -- [--data=../shared/data] [--candidates=base,steps 4 + lr 0.001] [--seeds=42,1,2]
 *     [--peers=bench/results/quality.json,...] [--jobs=2] [--cache=/tmp/flowsentinel-tabular-loso]
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionError } from '../src/errors.js';
import { loadEvaluationConfig, TABULAR_DEFAULTS } from '../src/evaluate/config.js';
import { datasetName, type TabularResult } from '../src/evaluate/tabular.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { bestPerSet, type LosoScores, losoFolds, regret, worstRegret } from './lib/loso.js';
import { REPO_ROOT } from './lib/python.js';
import { PEER_INFO, PEERS } from './lib/quality-peers.js';
import type { TabularRow } from './lib/quality-tables.js';
import { evaluateInChild, pool } from './lib/quality-worker.js';
import { signed, writeResults } from './lib/results.js';
import { markdownTable } from './lib/stats.js';
import { TABULAR_CANDIDATES, type TabularCandidate } from './lib/tabular-candidates.js';

const BASE_CONFIG = join(REPO_ROOT, 'config', 'tabular.yaml');

/** The cache file of one run: keyed by the resolved config (base file + overrides), the seed and the set. */
function cacheFile(dir: string, c: TabularCandidate, seed: number, file: string): string {
  const { config } = loadEvaluationConfig({
    file: BASE_CONFIG,
    defaultFile: BASE_CONFIG,
    defaults: TABULAR_DEFAULTS,
    overrides: c.overrides,
    fields: ['x'],
  });
  const key = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
  return join(dir, `${datasetName(file)}-${seed}-${key}.json`);
}

async function runAll(
  files: readonly string[],
  candidates: readonly TabularCandidate[],
  seeds: readonly number[],
  jobs: number,
  cache: string,
): Promise<Map<string, TabularResult[]>> {
  await mkdir(cache, { recursive: true });
  const cells = candidates.flatMap((c) => seeds.flatMap((seed) => files.map((file) => ({ c, seed, file }))));
  const tasks = cells.map(({ c, seed, file }) => async (): Promise<TabularResult> => {
    const out = cacheFile(cache, c, seed, file);
    if (existsSync(out)) return JSON.parse(await readFile(out, 'utf8')) as TabularResult;
    process.stderr.write(`  ${c.name} / ${datasetName(file)} / seed ${seed}\n`);
    return evaluateInChild(file, out, seed, BASE_CONFIG, c.overrides);
  });
  const results = await pool(tasks, jobs);
  const byCandidate = new Map<string, TabularResult[]>();
  for (const [i, { c }] of cells.entries()) {
    byCandidate.set(c.name, [...(byCandidate.get(c.name) ?? []), results[i]!]);
  }
  return byCandidate;
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** `${W}/${set}` → the best online peer's ROC-AUC with the first W rows ranked lowest (bench:quality JSON). */
async function peerReferences(files: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const file of files) {
    const { tabular } = JSON.parse(await readFile(file, 'utf8')) as { tabular: readonly TabularRow[] };
    for (const row of tabular) {
      const online = PEERS.filter((p) => PEER_INFO[p].online).map((p) => row.peers[p].masked.rocAuc);
      out.set(`${row.warmup}/${row.dataset}`, Math.max(...online));
    }
  }
  return out;
}

function scoresOf(
  c: TabularCandidate,
  results: readonly TabularResult[],
  sets: readonly string[],
  peers: ReadonlyMap<string, number> | undefined,
): LosoScores {
  const of = (s: string) => results.filter((r) => r.dataset === s);
  const auc = Object.fromEntries(sets.map((s) => [s, mean(of(s).map((r) => r.rocAuc))]));
  if (peers === undefined) return { name: c.name, knobs: c.knobs, auc };
  const reference = Object.fromEntries(
    sets.map((s) => {
      const key = `${of(s)[0]?.warming}/${s}`;
      const v = peers.get(key);
      if (v === undefined) {
        throw new InvalidOptionError(
          `--peers has no bench:quality row for W/set ${key} (${c.name}); run bench:quality with that warm-up`,
        );
      }
      return [s, v];
    }),
  );
  return { name: c.name, knobs: c.knobs, auc, reference };
}

function tables(
  scores: readonly LosoScores[],
  byCandidate: ReadonlyMap<string, readonly TabularResult[]>,
  sets: readonly string[],
  seeds: readonly number[],
): string {
  const best = bestPerSet(scores);
  const candidateRows = scores.map((c) => {
    const rates = (byCandidate.get(c.name) ?? []).map((r) => r.realisedAlertRate / r.configuredAlertRate);
    return [
      c.name,
      ...sets.map((s) => c.auc[s]!.toFixed(3)),
      mean(sets.map((s) => c.auc[s]!)).toFixed(3),
      signed(worstRegret(c, sets, best), 3),
      `${Math.min(...rates).toFixed(2)}–${Math.max(...rates).toFixed(2)}×`,
    ];
  });
  const regretRows = scores.map((c) => [
    c.name,
    ...sets.map((s) => signed(regret(c, s, best), 3)),
    signed(worstRegret(c, sets, best), 3),
  ]);
  const folds = losoFolds(scores);
  const foldRows = folds.map((f) => [
    f.heldOut,
    f.chosen,
    signed(f.trainWorst, 3),
    f.heldOutAuc.toFixed(3),
    signed(f.heldOutRegret, 3),
  ]);
  const spread = scores.map((c) => [
    c.name,
    ...sets.map((s) =>
      (byCandidate.get(c.name) ?? [])
        .filter((r) => r.dataset === s)
        .map((r) => r.rocAuc.toFixed(3))
        .join(' / '),
    ),
  ]);
  return [
    `ROC-AUC (warm-up rows ranked lowest), mean over seeds ${seeds.join(', ')}:\n`,
    markdownTable(['candidate', ...sets, 'mean', 'worst regret', 'realised / q'], candidateRows),
    `\nRegret per set (${scores[0]?.reference ? 'minus the best online peer with the same warm-up mask' : 'minus the best candidate'}):\n`,
    markdownTable(['candidate', ...sets, 'worst'], regretRows),
    '\nPer fold: chosen on the other sets by the best worst regret (ties within 0.0005: fewer knobs):\n',
    markdownTable(
      ['held-out set', 'chosen on the others', 'worst regret there', 'held-out ROC-AUC', 'held-out regret'],
      foldRows,
    ),
    `\nPer seed (${seeds.join(' / ')}):\n`,
    markdownTable(['candidate', ...sets], spread),
  ].join('\n');
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), [
    'data',
    'candidates',
    'seeds',
    'jobs',
    'cache',
    'peers',
  ]);
  const dir = join(args.values.get('data') ?? '../shared/data', 'tabular');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.csv.gz') || f.endsWith('.csv'))
    .sort()
    .map((f) => join(dir, f));
  const names = args.values.get('candidates')?.split(',');
  const candidates = TABULAR_CANDIDATES.filter((c) => names === undefined || names.includes(c.name));
  if (candidates.length === 0 || files.length < 2) {
    throw new InvalidOptionError(
      `need candidates (${TABULAR_CANDIDATES.map((c) => c.name).join(', ')}) and ≥ 2 sets in ${dir}`,
    );
  }
  const seeds = (args.values.get('seeds') ?? '42,1,2').split(',').map(Number);
  const jobs = Math.round(numberArg(args, 'jobs', 1));
  const cache = args.values.get('cache') ?? join(tmpdir(), 'flowsentinel-tabular-loso');
  const load = loadavg();
  const byCandidate = await runAll(files, candidates, seeds, jobs, cache);
  const sets = files.map(datasetName);
  const peerFiles = args.values.get('peers')?.split(',');
  const peers = peerFiles === undefined ? undefined : await peerReferences(peerFiles);
  const scores = candidates.map((c) => scoresOf(c, byCandidate.get(c.name) ?? [], sets, peers));
  const text = tables(scores, byCandidate, sets, seeds);
  process.stdout.write(
    `# Tabular default: leave-one-set-out\n\nLoad average at the start: ${load.map((l) => l.toFixed(1)).join(' / ')}\n\n${text}\n`,
  );
  const path = await writeResults('tabular-loso', {
    seeds,
    candidates: candidates.map((c) => ({ ...c, auc: scores.find((s) => s.name === c.name)?.auc })),
    folds: losoFolds(scores),
  });
  process.stderr.write(`wrote ${path}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
