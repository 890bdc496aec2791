/** `flowsentinel demo`: the built-in demo stream end to end. */
import type { Command } from 'commander';
import type { DemoFlags } from '../actions/demo.js';
import { intArg, withCheckpointFlags } from '../args.js';
import type { CommandDeps } from '../deps.js';

/** Registers `demo` on `program`; the demo's modules (tfjs, the job, the report) load when it runs. */
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
  ).action(async (opts: DemoFlags) => {
    const { demoAction } = await import('../actions/demo.js');
    await demoAction(deps, opts);
  });
}
