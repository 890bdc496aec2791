/** `flowsentinel init-config`: prints the documented example config, to start a config file from. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { CommandDeps } from '../deps.js';

/** config/flowsentinel.example.yaml: three levels up from both src/cli/commands and dist/cli/commands. */
export const EXAMPLE_CONFIG = fileURLToPath(
  new URL('../../../config/flowsentinel.example.yaml', import.meta.url),
);

/** Registers `init-config` on `program`. */
export function registerInitConfigCommand(program: Command, deps: CommandDeps): void {
  program
    .command('init-config')
    .description(
      'print the documented example config (every key, with its default): flowsentinel init-config > flowsentinel.yaml',
    )
    .action(() => {
      const text = readFileSync(EXAMPLE_CONFIG, 'utf8');
      if (deps.print) deps.print(text.replace(/\n$/, ''));
      else process.stdout.write(text);
    });
}
