/** `flowsentinel replay-to-topic`: a JSONL recording into a topic. */
import { type Command, Option } from 'commander';
import type { ReplayToTopicFlags } from '../actions/replay-to-topic.js';
import { brokerList } from '../args.js';
import type { CommandDeps } from '../deps.js';

/** Registers `replay-to-topic` on `program`; kafkajs loads when it runs. */
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
    .action(async (file: string, opts: ReplayToTopicFlags) => {
      const { replayToTopicAction } = await import('../actions/replay-to-topic.js');
      await replayToTopicAction(deps, file, opts);
    });
}
