/** `flowsentinel replay`: a recorded topic through the pipeline (or into a topic with `--to-topic`). */
import { type Command, Option } from 'commander';
import type { ReplayFlags } from '../actions/replay.js';
import { speedArg, withCheckpointFlags } from '../args.js';
import type { CommandDeps } from '../deps.js';

/** Registers `replay` on `program`; the job's modules (tfjs, the pipeline, kafkajs) load when it runs. */
export function registerReplayCommand(program: Command, deps: CommandDeps): void {
  withCheckpointFlags(
    program
      .command('replay')
      .description(
        'replay a recorded topic (JSONL) through the pipeline; writes anomalies, scores and dead letters',
      )
      .argument('[file]', 'recorded topic, JSON lines (docs/recorded-format.md); default: replay.input')
      .option('-c, --config <file>', 'YAML or JSON config file (features.fields is required)')
      .option('-o, --out-dir <dir>', 'output directory (default: replay.output, else replay-out)')
      .addOption(
        new Option('--speed <speed>', 'recorded | max | speed-up factor (default: replay.speed)').argParser(
          speedArg,
        ),
      )
      .option('--no-scores', 'do not write scores.jsonl')
      .addOption(
        new Option(
          '--malformed-lines <mode>',
          'a line that is not a record: skip it (counted warning) or fail (stop; records before it are written)',
        )
          .choices(['fail', 'skip'])
          .default('skip'),
      )
      .option(
        '--to-topic <topic>',
        'produce the recording into this Kafka topic instead (keys, headers, timestamps kept)',
      ),
  ).action(async (file: string | undefined, opts: ReplayFlags) => {
    const { replayAction } = await import('../actions/replay.js');
    await replayAction(deps, file, opts);
  });
}
