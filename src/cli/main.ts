#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type ConfigOverrides, loadConfig } from '../config/load.js';
import { ConfigError, FlowsentinelError } from '../errors.js';
import { createLogger, type Logger } from '../logging.js';
import { DEMO_FIELDS, formatDemoSummary, runDemo } from './demo.js';
import { registerEvaluateCommand } from './evaluate-command.js';
import { registerKafkaCommands, replayFileToTopic } from './kafka-commands.js';
import { runReplay } from './replay.js';
import { installShutdownHandlers } from './shutdown.js';

/** Built-in demo settings, shipped with the package (config/demo.yaml). */
const DEMO_CONFIG_FILE = fileURLToPath(new URL('../../config/demo.yaml', import.meta.url));

const program = new Command();
program
  .name('flowsentinel')
  .description('Streaming anomaly detection with online-trained normalizing flows')
  .showHelpAfterError();

function intArg(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function speedArg(value: string): 'recorded' | 'max' | number {
  if (value === 'recorded' || value === 'max') return value;
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('expected recorded, max or a positive speed-up factor');
  return n;
}

/** Checkpoint flags shared by `demo` and `replay`. */
interface CheckpointFlags {
  checkpointDir?: string;
  resetModel?: boolean;
  checkpoint?: string;
}

function withCheckpointFlags(command: Command): Command {
  return command
    .option('--checkpoint-dir <dir>', 'write checkpoints here and start from the newest (checkpoint.dir)')
    .option('--reset-model', 'start fresh, ignoring existing checkpoints (checkpoint.reset)')
    .option('--checkpoint <file>', 'start from this checkpoint, e.g. the last good one (checkpoint.file)');
}

function checkpointOverrides(opts: CheckpointFlags): ConfigOverrides['checkpoint'] {
  return {
    dir: opts.checkpointDir,
    reset: opts.resetModel === true ? true : undefined,
    file: opts.checkpoint,
  };
}

function logger(level?: string): Logger {
  return createLogger({
    level: (level ?? 'info') as 'info',
    name: 'flowsentinel',
    destination: process.stderr,
  });
}

withCheckpointFlags(
  program
    .command('demo')
    .description('run the built-in demo stream end to end (no Kafka needed); serves /metrics while it runs')
    .option('-c, --config <file>', 'YAML or JSON config file')
    .option('--events <n>', 'events to generate', intArg)
    .option('--seed <n>', 'seed of the demo stream', intArg)
    .option('--report <file>', 'HTML report path')
    .option('--metrics-port <port>', 'port of /metrics (0 = ephemeral)', intArg),
).action(
  async (
    opts: {
      config?: string;
      events?: number;
      seed?: number;
      report?: string;
      metricsPort?: number;
    } & CheckpointFlags,
  ) => {
    const overrides: ConfigOverrides = {
      demo: { events: opts.events, seed: opts.seed, report: opts.report },
      metrics: { port: opts.metricsPort },
      checkpoint: checkpointOverrides(opts),
    };
    const config = loadConfig({
      file: opts.config ?? process.env.FLOWSENTINEL_CONFIG ?? DEMO_CONFIG_FILE,
      overrides,
    });
    if (config.features.fields.length !== DEMO_FIELDS.length) {
      throw new ConfigError(
        `the demo stream has ${DEMO_FIELDS.length} features; set features.fields to ${DEMO_FIELDS.length} names`,
      );
    }
    const log = logger(config.log.level);
    const shutdown = installShutdownHandlers(log, config.shutdown.timeoutMs);
    try {
      const result = await runDemo(config, log, shutdown.signal);
      process.stdout.write(`${formatDemoSummary(result)}\n`);
    } finally {
      shutdown.dispose();
    }
  },
);

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
).action(
  async (
    file: string | undefined,
    opts: {
      config?: string;
      outDir?: string;
      speed?: 'recorded' | 'max' | number;
      scores: boolean;
      malformedLines: 'fail' | 'skip';
      toTopic?: string;
    } & CheckpointFlags,
  ) => {
    // Producing a recording back to Kafka reads no features, so none need configuring.
    const config = loadConfig({
      ...(opts.config ? { file: opts.config } : {}),
      overrides: {
        ...(opts.toTopic ? { features: { fields: ['unused'] } } : {}),
        checkpoint: checkpointOverrides(opts),
      },
    });
    const input = file ?? config.replay.input;
    if (input === undefined) throw new ConfigError('replay: give a file argument or set replay.input');
    const log = logger(config.log.level);
    const shutdown = installShutdownHandlers(log, config.shutdown.timeoutMs);
    if (opts.toTopic) {
      try {
        const result = await replayFileToTopic(config, log, {
          file: input,
          topic: opts.toTopic,
          signal: shutdown.signal,
        });
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } finally {
        shutdown.dispose();
      }
      return;
    }
    const outDir = opts.outDir ?? config.replay.output ?? 'replay-out';
    try {
      const summary = await runReplay(config, log, {
        file: input,
        outDir,
        // replay.speed: 0 = as fast as possible, 1 = recorded pace, k = k× faster.
        speed: opts.speed ?? (config.replay.speed === 0 ? 'max' : config.replay.speed),
        writeScores: opts.scores,
        malformedLines: opts.malformedLines,
        signal: shutdown.signal,
      });
      process.stdout.write(`${JSON.stringify({ ...summary, outDir })}\n`);
    } finally {
      shutdown.dispose();
    }
  },
);

registerKafkaCommands(program, { logger });
registerEvaluateCommand(program, { logger });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`flowsentinel: ${msg}\n`);
  if (!(err instanceof FlowsentinelError) && err instanceof Error && err.stack)
    process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
}
