/** `flowsentinel demo`: the built-in demo stream end to end. */
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { type ConfigOverrides, loadConfig } from '../../config/load.js';
import type { AppConfig } from '../../config/schema.js';
import { ConfigError } from '../../errors.js';
import { type CheckpointFlags, checkpointOverrides, intArg, withCheckpointFlags } from '../args.js';
import { DEMO_FIELDS, formatDemoSummary, runDemo } from '../demo.js';
import { type CommandDeps, withShutdown } from '../with-shutdown.js';

/** Built-in demo settings, shipped with the package (config/demo.yaml). */
const DEMO_CONFIG_FILE = fileURLToPath(new URL('../../../config/demo.yaml', import.meta.url));

type DemoFlags = {
  config?: string;
  events?: number;
  seed?: number;
  report?: string;
  metricsPort?: number;
} & CheckpointFlags;

function demoConfig(opts: DemoFlags): AppConfig {
  const overrides: ConfigOverrides = {
    demo: { events: opts.events, seed: opts.seed, report: opts.report },
    metrics: { port: opts.metricsPort },
    checkpoint: checkpointOverrides(opts),
  };
  const config = loadConfig({
    file: opts.config ?? process.env.FLOWSENTINEL_CONFIG ?? DEMO_CONFIG_FILE,
    overrides,
  });
  if (config.features.fields.length !== DEMO_FIELDS.length) {
    throw new ConfigError(
      `the demo stream has ${DEMO_FIELDS.length} features; set features.fields to ${DEMO_FIELDS.length} names`,
    );
  }
  return config;
}

/** Registers `demo` on `program`. */
export function registerDemoCommand(program: Command, deps: CommandDeps): void {
  withCheckpointFlags(
    program
      .command('demo')
      .description('run the built-in demo stream end to end (no Kafka needed); serves /metrics while it runs')
      .option('-c, --config <file>', 'YAML or JSON config file')
      .option('--events <n>', 'events to generate', intArg)
      .option('--seed <n>', 'seed of the demo stream', intArg)
      .option('--report <file>', 'HTML report path')
      .option('--metrics-port <port>', 'port of /metrics (0 = ephemeral)', intArg),
  ).action((opts: DemoFlags) =>
    withShutdown(
      deps,
      () => demoConfig(opts),
      async ({ config, logger, signal, print }) => {
        print(formatDemoSummary(await runDemo(config, logger, signal)));
      },
    ),
  );
}
