/**
 * `flowsentinel evaluate tabular|nab`: labelled data through the production pipeline, results.json and
 * report.html (docs/evaluation.md).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { evaluateNab, formatNabSummary } from '../../evaluate/nab.js';
import type { TabularResult } from '../../evaluate/tabular.js';
import { datasetName, evaluateTabularDetail } from '../../evaluate/tabular.js';
import { alertRateText, fmt } from '../../evaluate/tabular-report.js';
import { createProgress } from '../../job/progress.js';
import { intArg, positiveIntArg, regexArg } from '../args.js';
import type { CommandDeps } from '../with-shutdown.js';

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

/** Registers `evaluate tabular` and `evaluate nab` on `program`. */
export function registerEvaluateCommand(program: Command, deps: CommandDeps): void {
  const evaluate = program
    .command('evaluate')
    .description('run labelled data through the pipeline; write results.json and an HTML report');
  registerTabular(evaluate, deps);
  registerNab(evaluate, deps);
}

function registerTabular(evaluate: Command, deps: CommandDeps): void {
  evaluate
    .command('tabular')
    .description('a labelled CSV (optionally .gz): ROC-AUC, PR-AUC, precision/recall/F1, alert rate, delays')
    .argument('<file>', 'CSV or CSV.gz with a header, feature columns and a label column')
    .option(
      '-c, --config <file>',
      'YAML or JSON config (default config/tabular.yaml, else built-in defaults)',
    )
    .option('--seed <n>', 'model seed (model.seed)', intArg)
    .option('-o, --out <dir>', 'output directory (default evaluate-out/<dataset>)')
    .option('--label-column <name>', 'label column, 1 = anomaly', 'label')
    .option('--max-rows <n>', 'only the first n rows', positiveIntArg)
    .option('--scores', 'include the per-row scores in results.json')
    .action(
      async (
        file: string,
        opts: {
          config?: string;
          seed?: number;
          out?: string;
          labelColumn: string;
          maxRows?: number;
          scores?: boolean;
        },
      ) => {
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
            logger: deps.logger('error'),
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
      },
    );
}

function registerNab(evaluate: Command, deps: CommandDeps): void {
  evaluate
    .command('nab')
    .description('a NAB-layout corpus (data/<category>/*.csv, labels/combined_windows.json): NAB scores')
    .argument('<dir>', 'NAB directory')
    .option('-c, --config <file>', 'YAML or JSON config (default config/nab.yaml, else built-in defaults)')
    .option('--seed <n>', 'model seed (model.seed)', intArg)
    .option('-o, --out <dir>', 'output directory (default evaluate-out/nab)')
    .option('--filter <regex>', 'only series whose <category>/<name>.csv matches', regexArg)
    .option('--dedupe <points>', 'repeat-detection suppression window, points (0 = off)', intArg)
    .action(
      async (
        dir: string,
        opts: { config?: string; seed?: number; out?: string; filter?: RegExp; dedupe?: number },
      ) => {
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
            logger: deps.logger('error'),
            onProgress: (_done, _total, p) => {
              // One bar per series, labelled with its position in the corpus.
              if (p.series !== barSeries) {
                progress?.stop();
                progress = createProgress(
                  `nab ${p.series + 1}/${p.seriesCount} ${p.seriesName}`,
                  p.seriesPoints,
                );
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
      },
    );
}
