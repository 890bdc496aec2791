/** `flowsentinel run`: the production Kafka job. */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { runKafkaDetector } from '../../job/kafka.js';
import { type CommandDeps, withShutdown } from '../with-shutdown.js';

/** Registers `run` on `program`. */
export function registerRunCommand(program: Command, deps: CommandDeps): void {
  program
    .command('run')
    .description('consume Kafka, score, publish anomalies/scores/dead letters, commit at least once')
    .requiredOption('-c, --config <file>', 'YAML or JSON config file (features.fields and kafka.* )')
    .action((opts: { config: string }) =>
      withShutdown(
        deps,
        () => loadConfig({ file: opts.config }),
        async ({ config, logger, signal, print }) => {
          const result = await runKafkaDetector({ config, logger, signal });
          print(JSON.stringify(result));
        },
      ),
    );
}
