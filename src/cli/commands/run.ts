/** `flowsentinel run`: the production Kafka job. */
import type { Command } from 'commander';
import type { CommandDeps } from '../deps.js';

/** Registers `run` on `program`; the job's modules (kafkajs, tfjs, metrics) load when it runs. */
export function registerRunCommand(program: Command, deps: CommandDeps): void {
  program
    .command('run')
    .description('consume Kafka, score, publish anomalies/scores/dead letters, commit at least once')
    .requiredOption('-c, --config <file>', 'YAML or JSON config file (features.fields and kafka.* )')
    .action(async (opts: { config: string }) => {
      const { runAction } = await import('../actions/run.js');
      await runAction(deps, opts.config);
    });
}
