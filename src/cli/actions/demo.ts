/** What `flowsentinel demo` runs (loaded only when the command runs; options in ../commands/demo.ts). */
import { fileURLToPath } from 'node:url';
import { type ConfigOverrides, loadConfig } from '../../config/load.js';
import type { AppConfig } from '../../config/schema.js';
import { ConfigError } from '../../errors.js';
import { type CheckpointFlags, checkpointOverrides } from '../args.js';
import { DEMO_FIELDS, formatDemoSummary, runDemo } from '../demo.js';
import type { CommandDeps } from '../deps.js';
import { withShutdown } from '../with-shutdown.js';

/** Built-in demo settings, shipped with the package (config/demo.yaml). */
const DEMO_CONFIG_FILE = fileURLToPath(new URL('../../../config/demo.yaml', import.meta.url));

/** The flags of `demo`. */
export type DemoFlags = {
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

/** Runs the demo with `opts` and prints its summary. */
export function demoAction(deps: CommandDeps, opts: DemoFlags): Promise<void> {
  return withShutdown(
    deps,
    () => demoConfig(opts),
    async ({ config, logger, signal, print }) => {
      print(formatDemoSummary(await runDemo(config, logger, signal)));
    },
  );
}
