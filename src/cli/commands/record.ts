/** `flowsentinel record`: a topic into a JSONL recording. */
import { type Command, Option } from 'commander';
import { brokerList, positiveIntArg } from '../args.js';
import type { CommandDeps } from '../deps.js';

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

/** Registers `record` on `program`; kafkajs loads when it runs. */
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
    .action(async ({ untilIdle, ...opts }: RecordFlags) => {
      const { recordAction } = await import('../actions/record.js');
      const untilIdleMs = untilIdle === true ? DEFAULT_UNTIL_IDLE_MS : untilIdle;
      await recordAction(deps, { ...opts, ...(untilIdleMs === undefined ? {} : { untilIdleMs }) });
    });
}
