/**
 * `flowsentinel evaluate tabular|nab`: labelled data through the production pipeline, results.json and
 * report.html (docs/evaluation.md).
 */
import type { Command } from 'commander';
import type { NabFlags, TabularFlags } from '../actions/evaluate.js';
import { intArg, positiveIntArg, regexArg } from '../args.js';
import type { CommandDeps } from '../deps.js';

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
    .action(async (file: string, opts: TabularFlags) => {
      const { evaluateTabularAction } = await import('../actions/evaluate.js');
      await evaluateTabularAction(deps, file, opts);
    });
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
    .action(async (dir: string, opts: NabFlags) => {
      const { evaluateNabAction } = await import('../actions/evaluate.js');
      await evaluateNabAction(deps, dir, opts);
    });
}
