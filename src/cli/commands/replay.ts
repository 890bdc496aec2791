/** `flowsentinel replay`: a recorded topic through the pipeline (or into a topic with `--to-topic`). */
import { existsSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { ConfigError, FlowsentinelError, InvalidOptionError } from '../../errors.js';
import { replayFileToTopic } from '../../job/kafka.js';
import { runReplay } from '../../job/replay.js';
import { type CheckpointFlags, checkpointOverrides, speedArg, withCheckpointFlags } from '../args.js';
import { INIT_CONFIG_HINT, loadCommandConfig, noConfigGiven } from '../config-hint.js';
import { type CommandContext, type CommandDeps, withShutdown } from '../with-shutdown.js';

type ReplayFlags = {
  config?: string;
  outDir?: string;
  speed?: 'recorded' | 'max' | number;
  scores: boolean;
  malformedLines: 'fail' | 'skip';
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
    malformedLines: opts.malformedLines,
    signal,
  });
  print(JSON.stringify({ ...summary, outDir }));
}

/**
 * What can be said before the config is read: a missing recording argument (when no config could name one
 * in replay.input) is a usage error, a recording that does not exist a failure to read the input.
 */
function checkRecording(file: string | undefined, opts: ReplayFlags): void {
  if (file === undefined) {
    if (noConfigGiven(opts.config)) {
      throw new InvalidOptionError(
        `replay: no recording given: pass the JSONL file, e.g. flowsentinel replay recording.jsonl -c flowsentinel.yaml (or set replay.input in the config). A config is needed too: ${INIT_CONFIG_HINT}`,
      );
    }
    return;
  }
  if (!existsSync(file)) {
    throw new FlowsentinelError(`replay: recording file not found: ${file}`, { context: { file } });
  }
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
  ).action((file: string | undefined, opts: ReplayFlags) => {
    checkRecording(file, opts);
    return withShutdown(
      deps,
      // Producing a recording back to Kafka reads no features, so none need configuring.
      () =>
        loadCommandConfig('replay', opts.config, {
          ...(opts.toTopic ? { features: { fields: ['unused'] } } : {}),
          checkpoint: checkpointOverrides(opts),
        }),
      (ctx) => replay(file, opts, ctx),
    );
  });
}
