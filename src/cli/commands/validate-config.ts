/** `flowsentinel validate-config`: checks a config file (plus FLOWSENTINEL_* variables) without running. */
import type { Command } from 'commander';
import type { CommandDeps } from '../deps.js';

/** Registers `validate-config` on `program`; the config schema loads when it runs. */
export function registerValidateConfigCommand(program: Command, deps: CommandDeps): void {
  program
    .command('validate-config')
    .description('check a config file (and FLOWSENTINEL_* variables) without running; exit 2 when invalid')
    .requiredOption('-c, --config <file>', 'YAML or JSON config file')
    .action(async (opts: { config: string }) => {
      const { validateConfigAction } = await import('../actions/validate-config.js');
      validateConfigAction(deps, opts.config);
    });
}
