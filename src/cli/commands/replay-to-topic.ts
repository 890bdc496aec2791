/** `flowsentinel replay-to-topic`: a JSONL recording into a topic. */
import { type Command, Option } from 'commander';
import { replayFileToTopic } from '../../job/kafka.js';
import type { ReplayPartitioning } from '../../kafka/replay-to-topic.js';
import { brokerList } from '../args.js';
import { toolConfig } from '../tool-config.js';
import { type CommandDeps, withShutdown } from '../with-shutdown.js';

type Flags = { toTopic: string; config?: string; brokers?: string[]; partitioning: ReplayPartitioning };

/** Registers `replay-to-topic` on `program`. */
export function registerReplayToTopicCommand(program: Command, deps: CommandDeps): void {
  program
    .command('replay-to-topic')
    .description(
      'produce a recorded JSONL file into a topic, keeping keys, headers, timestamps and partitions',
    )
    .argument('<file>', 'recorded topic, JSON lines')
    .requiredOption('--to-topic <topic>', 'existing target topic')
    .option('-c, --config <file>', 'config file for kafka.* security settings')
    .option(
      '--brokers <list>',
      'bootstrap brokers host:port[,host:port] (default: kafka.brokers)',
      brokerList,
    )
    .addOption(
      new Option('--partitioning <mode>', 'auto: keep partitions when they exist, else by key')
        .choices(['auto', 'preserve', 'key'])
        .default('auto'),
    )
    .action((file: string, opts: Flags) =>
      withShutdown(
        deps,
        () => toolConfig(opts.config, opts.brokers),
        async ({ config, logger, signal, print }) => {
          const result = await replayFileToTopic(config, logger, {
            file,
            topic: opts.toTopic,
            partitioning: opts.partitioning,
            signal,
          });
          print(JSON.stringify({ ...result, topic: opts.toTopic, file }));
        },
      ),
    );
}
