#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ConfigError, FlowsentinelError, InvalidOptionError } from '../errors.js';
import { registerCommands } from './commands/index.js';

/** The package's own version (package.json sits two levels up from both src/cli and dist/cli). */
const PACKAGE_JSON = fileURLToPath(new URL('../../package.json', import.meta.url));
const { version } = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string };

/** Exit codes (README "Exit codes"): 0 ok, 1 runtime failure, 2 usage or configuration error. */
const EXIT_RUNTIME = 1;
const EXIT_USAGE = 2;

const program = new Command();
program
  .name('flowsentinel')
  .description('Streaming anomaly detection with online-trained normalizing flows')
  .version(version, '-V, --version', 'print the flowsentinel version')
  .showHelpAfterError()
  // Commander reports usage errors itself, then throws instead of exiting, so the exit code is set below.
  .exitOverride();
// Each command imports its modules (tfjs, kafkajs, the config schema …) only when it runs, so --help,
// --version and usage errors stay cheap; default deps: pino on stderr, stdout, process signals.
registerCommands(program, {});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here with code 0; unknown options, bad arguments and the like with 2.
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`flowsentinel: ${msg}\n`);
    if (!(err instanceof FlowsentinelError) && err instanceof Error && err.stack)
      process.stderr.write(`${err.stack}\n`);
    process.exitCode =
      err instanceof ConfigError || err instanceof InvalidOptionError ? EXIT_USAGE : EXIT_RUNTIME;
  }
}
