/** What `flowsentinel replay` runs (loaded only when the command runs; options in ../commands/replay.ts). */
import { existsSync } from 'node:fs';
import { ConfigError, FlowsentinelError, InvalidOptionError } from '../../errors.js';
import { type CheckpointFlags, checkpointOverrides } from '../args.js';
import { INIT_CONFIG_HINT, loadCommandConfig, noConfigGiven } from '../config-hint.js';
import type { CommandContext, CommandDeps } from '../deps.js';
import { withShutdown } from '../with-shutdown.js';

/** The flags of `replay`. */
export type ReplayFlags = {
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
  // Either kafkajs or the detector job: load only the one this replay needs.
  if (opts.toTopic) {
    const { replayFileToTopic } = await import('../../job/kafka.js');
    const result = await replayFileToTopic(config, logger, { file: input, topic: opts.toTopic, signal });
    print(JSON.stringify(result));
    return;
  }
  const outDir = opts.outDir ?? config.replay.output ?? 'replay-out';
  const { runReplay } = await import('../../job/replay.js');
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

/** Replays the recording `file` (default replay.input) through the pipeline, or into `--to-topic`. */
export async function replayAction(
  deps: CommandDeps,
  file: string | undefined,
  opts: ReplayFlags,
): Promise<void> {
  checkRecording(file, opts);
  await withShutdown(
    deps,
    // Producing a recording back to Kafka reads no features, so none need configuring.
    () =>
      loadCommandConfig('replay', opts.config, {
        ...(opts.toTopic ? { features: { fields: ['unused'] } } : {}),
        checkpoint: checkpointOverrides(opts),
      }),
    (ctx) => replay(file, opts, ctx),
  );
}
