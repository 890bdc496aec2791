/** `flowsentinel record`: a topic into a JSONL recording. */
import { type Command, Option } from 'commander';
import { createKafka } from '../../kafka/client.js';
import { recordTopic } from '../../kafka/record.js';
import { brokerList, positiveIntArg } from '../args.js';
import { toolConfig } from '../tool-config.js';
import { type CommandDeps, withShutdown } from '../with-shutdown.js';

/** Default idle time of a bare `--until-idle`, ms. */
export const DEFAULT_UNTIL_IDLE_MS = 5000;

type RecordFlags = {
  config?: string;
  brokers?: string[];
  topic: string;
  out: string;
  from: 'earliest' | 'latest';
  max?: number;
  untilIdle?: number | true;
};

/** Registers `record` on `program`. */
export function registerRecordCommand(program: Command, deps: CommandDeps): void {
  program
    .command('record')
    .description('record a topic into a JSONL file (docs/recorded-format.md) without committing offsets')
    .option('-c, --config <file>', 'config file for kafka.* security settings')
    .option(
      '--brokers <list>',
      'bootstrap brokers host:port[,host:port] (default: kafka.brokers)',
      brokerList,
    )
    .requiredOption('--topic <topic>', 'topic to record')
    .requiredOption('--out <file>', 'JSONL file to write (overwritten)')
    .addOption(
      new Option('--from <position>', 'where to start').choices(['earliest', 'latest']).default('earliest'),
    )
    .option('--max <n>', 'stop after n records', positiveIntArg)
    .option(
      '--until-idle [ms]',
      `keep recording until no record arrived for ms (default ${DEFAULT_UNTIL_IDLE_MS}) instead of stopping at the end offsets seen at start`,
      positiveIntArg,
    )
    .action((opts: RecordFlags) =>
      withShutdown(
        deps,
        () => toolConfig(opts.config, opts.brokers),
        async ({ config, logger, signal, print }) => {
          const untilIdleMs = opts.untilIdle === true ? DEFAULT_UNTIL_IDLE_MS : opts.untilIdle;
          const result = await recordTopic({
            kafka: createKafka(config.kafka, { logger }),
            topic: opts.topic,
            out: opts.out,
            from: opts.from,
            signal,
            ...(opts.max === undefined ? {} : { max: opts.max }),
            ...(untilIdleMs === undefined ? {} : { untilIdleMs }),
          });
          print(JSON.stringify({ ...result, topic: opts.topic, out: opts.out }));
        },
      ),
    );
}
