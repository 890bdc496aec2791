/**
 * What `flowsentinel evaluate tabular|nab` runs (loaded only when the command runs; options in
 * ../commands/evaluate.ts).
 */
import { join } from 'node:path';
import { evaluateNab, formatNabSummary } from '../../evaluate/nab.js';
import type { TabularResult } from '../../evaluate/tabular.js';
import { datasetName, evaluateTabularDetail } from '../../evaluate/tabular.js';
import { alertRateText, fmt } from '../../evaluate/tabular-report.js';
import { createProgress } from '../../job/progress.js';
import type { CommandDeps } from '../deps.js';
import { commandLogger } from '../with-shutdown.js';

/** The flags of `evaluate tabular`. */
export interface TabularFlags {
  config?: string;
  seed?: number;
  out?: string;
  labelColumn: string;
  maxRows?: number;
  scores?: boolean;
}

/** The flags of `evaluate nab`. */
export interface NabFlags {
  config?: string;
  seed?: number;
  out?: string;
  filter?: RegExp;
  dedupe?: number;
}

/** Human summary of a tabular evaluation. */
export function formatTabularSummary(r: TabularResult, outDir: string): string {
  const t = r.timeToFirstAlert;
  return [
    `flowsentinel evaluate tabular: ${r.dataset}`,
    `  rows             ${r.rows} (${r.anomalies} labelled anomalies, ${r.warming} warming)`,
    `  ROC-AUC          ${fmt(r.rocAuc)} all rows, warm-up ranked lowest; ${fmt(r.rocAucScoredOnly)} scored rows only (${r.scoredRows})`,
    `  PR-AUC           ${fmt(r.prAuc)} all rows, warm-up ranked lowest (chance ${fmt(r.anomalies / r.rows)}); ${fmt(r.prAucScoredOnly)} scored rows only`,
    `  at threshold     precision ${fmt(r.precision)}, recall ${fmt(r.recall)}, F1 ${fmt(r.f1)} (${r.flagged} flagged)`,
    `  alert rate       ${alertRateText(r)} of scored rows`,
    `  alerts           ${fmt(r.alertsPer10k, 1)} per 10k events`,
    `  first alert      ${t.detected}/${t.runs} anomaly runs detected, median delay ${fmt(t.median, 1)} events`,
    `  throughput       ${fmt(r.eventsPerSecond, 0)} events/s over ${fmt(r.elapsedSeconds, 1)} s`,
    `  results          ${join(outDir, 'results.json')}`,
    `  report           ${join(outDir, 'report.html')}`,
  ].join('\n');
}

/** Evaluates the labelled CSV `file`; a progress bar while it runs, then the summary on stdout. */
export async function evaluateTabularAction(
  deps: CommandDeps,
  file: string,
  opts: TabularFlags,
): Promise<void> {
  const outDir = opts.out ?? join('evaluate-out', datasetName(file));
  let progress: ReturnType<typeof createProgress> | undefined;
  try {
    const { result } = await evaluateTabularDetail({
      file,
      ...(opts.config === undefined ? {} : { configFile: opts.config }),
      ...(opts.seed === undefined ? {} : { seed: opts.seed }),
      ...(opts.maxRows === undefined ? {} : { maxRows: opts.maxRows }),
      labelColumn: opts.labelColumn,
      outDir,
      env: process.env,
      includeScores: opts.scores === true,
      logger: commandLogger(deps, 'error'),
      onProgress: (done, total, flagged) => {
        progress ??= createProgress('evaluate', total);
        progress.update(done, { anomalies: flagged });
      },
    });
    progress?.stop();
    progress = undefined;
    process.stdout.write(`${formatTabularSummary(result, outDir)}\n`);
  } finally {
    progress?.stop();
  }
}

/** Evaluates the NAB corpus `dir`; one progress bar per series, then the summary on stdout. */
export async function evaluateNabAction(deps: CommandDeps, dir: string, opts: NabFlags): Promise<void> {
  const outDir = opts.out ?? join('evaluate-out', 'nab');
  let progress: ReturnType<typeof createProgress> | undefined;
  let barSeries = -1;
  try {
    const result = await evaluateNab({
      dir,
      ...(opts.config === undefined ? {} : { configFile: opts.config }),
      ...(opts.seed === undefined ? {} : { seed: opts.seed }),
      ...(opts.filter === undefined ? {} : { filter: opts.filter }),
      ...(opts.dedupe === undefined ? {} : { dedupeWindow: opts.dedupe }),
      outDir,
      env: process.env,
      logger: commandLogger(deps, 'error'),
      onProgress: (_done, _total, p) => {
        // One bar per series, labelled with its position in the corpus.
        if (p.series !== barSeries) {
          progress?.stop();
          progress = createProgress(`nab ${p.series + 1}/${p.seriesCount} ${p.seriesName}`, p.seriesPoints);
          barSeries = p.series;
        }
        progress?.update(p.seriesDone, { anomalies: p.seriesFlagged });
      },
    });
    progress?.stop();
    progress = undefined;
    process.stdout.write(`${formatNabSummary(result, outDir)}\n`);
  } finally {
    progress?.stop();
  }
}
