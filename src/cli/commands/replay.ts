/** `flowsentinel replay`: a recorded topic through the pipeline (or into a topic with `--to-topic`). */
import { type Command, Option } from 'commander';
import { loadConfig } from '../../config/load.js';
import { ConfigError } from '../../errors.js';
import { replayFileToTopic } from '../../job/kafka.js';
import { runReplay } from '../../job/replay.js';
import { type CheckpointFlags, checkpointOverrides, speedArg, withCheckpointFlags } from '../args.js';
import { type CommandContext, type CommandDeps, withShutdown } from '../with-shutdown.js';

type ReplayFlags = {
  config?: string;
  outDir?: string;
  speed?: 'recorded' | 'max' | number;
  scores: boolean;
  toTopic?: string;
} & CheckpointFlags;

async function replay(file: string | undefined, opts: ReplayFlags, ctx: CommandContext): Promise<void> {
  const { config, logger, signal, print } = ctx;
  const input = file ?? config.replay.input;
  if (input === undefined) throw new ConfigError('replay: give a file argument or set replay.input');
  if (opts.toTopic) {
    const result = await replayFileToTopic(config, logger, { file: input, topic: opts.toTopic, signal });
    print(JSON.stringify(result));
    return;
  }
  const outDir = opts.outDir ?? config.replay.output ?? 'replay-out';
  const summary = await runReplay(config, logger, {
    file: input,
    outDir,
    speed: opts.speed ?? config.replay.speed,
    writeScores: opts.scores,
    signal,
  });
  print(JSON.stringify({ ...summary, outDir }));
}

/** Registers `replay` on `program`. */
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
      .option(
        '--to-topic <topic>',
        'produce the recording into this Kafka topic instead (keys, headers, timestamps kept)',
      ),
  ).action((file: string | undefined, opts: ReplayFlags) =>
    withShutdown(
      deps,
      // Producing a recording back to Kafka reads no features, so none need configuring.
      () =>
        loadConfig({
          ...(opts.config ? { file: opts.config } : {}),
          overrides: {
            ...(opts.toTopic ? { features: { fields: ['unused'] } } : {}),
            checkpoint: checkpointOverrides(opts),
          },
        }),
      (ctx) => replay(file, opts, ctx),
    ),
  );
}
