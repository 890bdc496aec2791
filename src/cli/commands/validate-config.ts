/** `flowsentinel validate-config`: checks a config file (plus FLOWSENTINEL_* variables) without running. */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { AppConfig } from '../../config/schema.js';
import type { CommandDeps } from '../with-shutdown.js';

/** One line saying what the config runs. */
export function configSummary(config: AppConfig): string {
  const { features, model, threshold } = config;
  const key = features.keyField === undefined ? '' : `; key ${features.keyField}`;
  const modes = [
    ...(config.timeseries.enabled ? ['time-series mode'] : []),
    ...(config.perKey.enabled ? ['per-key models'] : []),
  ];
  return [
    `${features.fields.length} feature${features.fields.length === 1 ? '' : 's'} (${features.fields.join(', ')}${key})`,
    `model ${model.type} × ${model.layers} layers`,
    `threshold ${threshold.policy}`,
    `warm-up ${config.warmup.events} events`,
    `backend ${config.backend}`,
    ...modes,
  ].join(', ');
}

/** Registers `validate-config` on `program`. */
export function registerValidateConfigCommand(program: Command, deps: CommandDeps): void {
  program
    .command('validate-config')
    .description('check a config file (and FLOWSENTINEL_* variables) without running; exit 2 when invalid')
    .requiredOption('-c, --config <file>', 'YAML or JSON config file')
    .action((opts: { config: string }) => {
      // An invalid config throws ConfigError: main.ts prints every problem and exits 2.
      const config = loadConfig({ file: opts.config });
      const print = deps.print ?? ((line: string) => process.stdout.write(`${line}\n`));
      print(`OK ${opts.config}: ${configSummary(config)}`);
    });
}
