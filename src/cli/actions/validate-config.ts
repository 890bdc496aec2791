/**
 * What `flowsentinel validate-config` runs (loaded only when the command runs; options in
 * ../commands/validate-config.ts).
 */
import { loadConfig } from '../../config/load.js';
import type { AppConfig } from '../../config/schema.js';
import type { CommandDeps } from '../deps.js';

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

/** Checks the config file `file` (plus FLOWSENTINEL_* variables) and prints one line about it. */
export function validateConfigAction(deps: CommandDeps, file: string): void {
  // An invalid config throws ConfigError: main.ts prints every problem and exits 2.
  const config = loadConfig({ file });
  const print = deps.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  print(`OK ${file}: ${configSummary(config)}`);
}
