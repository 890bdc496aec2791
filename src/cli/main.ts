#!/usr/bin/env node
import { Command } from 'commander';
import { FlowsentinelError } from '../errors.js';
import { registerCommands } from './commands/index.js';
import { defaultCommandDeps } from './with-shutdown.js';

const program = new Command();
program
  .name('flowsentinel')
  .description('Streaming anomaly detection with online-trained normalizing flows')
  .showHelpAfterError();
registerCommands(program, defaultCommandDeps);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`flowsentinel: ${msg}\n`);
  if (!(err instanceof FlowsentinelError) && err instanceof Error && err.stack)
    process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
}
