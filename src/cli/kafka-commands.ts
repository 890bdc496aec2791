import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Registry } from 'prom-client';
import { type ConfigOverrides, loadConfig } from '../config/load.js';
import type { AppConfig } from '../config/schema.js';
import { createKafka } from '../kafka/client.js';
import type { ConsumeTopicResult } from '../kafka/consume-topic.js';
import { recordRejection } from '../kafka/errors.js';
import { KafkaHealth } from '../kafka/health.js';
import { recordTopic } from '../kafka/record.js';
import {
  type ReplayPartitioning,
  type ReplayToTopicResult,
  replayToTopic,
} from '../kafka/replay-to-topic.js';
import { createKafkaSinks } from '../kafka/sinks.js';
import { KafkaSource } from '../kafka/source.js';
import type { KafkaSourceOptions, KafkaSourceStats } from '../kafka/source-types.js';
import type { Logger } from '../logging.js';
import {
  createKafkaConsumerMetrics,
  createStalledGauge,
  kafkaMetricsObserver,
} from '../metrics/kafka-families.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { AckTracker } from '../streams/acks.js';
import type { PipelineSummary } from '../streams/pipeline.js';
import { runDetectorJob } from './job.js';
import { installShutdownHandlers } from './shutdown.js';

/** Consumer tuning that the config file does not carry (tests, special deployments). */
export type KafkaSourceTuning = Partial<
  Pick<
    KafkaSourceOptions,
    | 'commitIntervalMs'
    | 'sessionTimeoutMs'
    | 'heartbeatIntervalMs'
    | 'rebalanceTimeoutMs'
    | 'maxWaitTimeMs'
    | 'lagIntervalMs'
  >
>;

/** Options of `runKafkaDetector`. */
export interface RunKafkaDetectorOptions {
  readonly config: AppConfig;
  readonly logger: Logger;
  /** Aborting stops fetching, drains, commits, flushes and resolves. */
  readonly signal?: AbortSignal;
  readonly registry?: Registry;
  /** Serve /metrics, /healthz, /readyz (default `config.metrics.enabled`). */
  readonly serveMetrics?: boolean;
  readonly source?: KafkaSourceTuning;
}

/** What `run` reports when it ends. */
export interface KafkaRunResult {
  readonly summary: PipelineSummary;
  readonly consumer: Readonly<KafkaSourceStats>;
  readonly elapsedMs: number;
}

/**
 * Production run: consumes `kafka.topics` with the `kafka.groupId` consumer group, scores with the
 * configured detector, publishes to `kafka.outputs`, and commits only acknowledged offsets. Resolves after
 * `signal` aborts and the ordered shutdown finished: stop fetching → drain in-flight batches (outputs
 * acknowledged by the broker) → commit → leave the group → flush and disconnect the producer. Rejects with
 * the pipeline's error otherwise (what was acknowledged before is still committed).
 */
export async function runKafkaDetector(o: RunKafkaDetectorOptions): Promise<KafkaRunResult> {
  const { config, logger } = o;
  const kafka = createKafka(config.kafka, { logger });
  const acks = new AckTracker();
  const registry = o.registry ?? createMetricsRegistry();
  const consumerMetrics = createKafkaConsumerMetrics(registry, config.kafka.topics);
  const health = new KafkaHealth({
    stallMs: config.health.stallMs,
    outageToleranceMs: config.kafka.outageToleranceMs,
  });
  createStalledGauge(registry, () => health.stall()?.reason);
  const source = new KafkaSource({
    health,
    client: kafka,
    groupId: config.kafka.groupId,
    topics: config.kafka.topics,
    start: config.kafka.start,
    acks,
    observer: kafkaMetricsObserver(consumerMetrics, config.kafka.topics),
    ...o.source,
  });
  const sinks = await createKafkaSinks(kafka, config.kafka.outputs, { health });
  let failed = false;
  try {
    const result = await runDetectorJob({
      config,
      logger,
      source,
      sinks,
      acks,
      outputRejection: recordRejection,
      readiness: () => {
        const stall = health.stall();
        if (stall !== undefined) return { ready: false, reason: stall.detail };
        return source.ready ? true : { ready: false, reason: 'joining the consumer group' };
      },
      ...(o.signal ? { signal: o.signal } : {}),
      registry,
      ...(o.serveMetrics === undefined ? {} : { serveMetrics: o.serveMetrics }),
    });
    result.parts.dispose();
    return { summary: result.summary, consumer: { ...source.stats }, elapsedMs: result.elapsedMs };
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    const closed = (async () => {
      await source.close();
      await sinks.close();
    })();
    // After a failure the broker may be gone: closing (commit, leave, flush) must not hold the exit.
    if (!failed) await closed;
    else if (!(await settlesWithin(closed, config.shutdown.timeoutMs))) {
      logger.warn(
        { timeoutMs: config.shutdown.timeoutMs },
        'closing Kafka clients timed out after a failure',
      );
    }
  }
}

/** True if `p` settled (either way) within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Options of `replayFileToTopic`. */
export interface ReplayFileToTopicOptions {
  readonly file: string;
  readonly topic: string;
  readonly partitioning?: ReplayPartitioning;
  readonly signal?: AbortSignal;
}

/** `flowsentinel replay <file> --to-topic T`: produces a recording into a topic with the config's Kafka settings. */
export function replayFileToTopic(
  config: AppConfig,
  logger: Logger,
  o: ReplayFileToTopicOptions,
): Promise<ReplayToTopicResult> {
  return replayToTopic({
    kafka: createKafka(config.kafka, { logger }),
    file: o.file,
    topic: o.topic,
    ...(o.partitioning ? { partitioning: o.partitioning } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
}

/** What the commands need from main.ts. */
export interface KafkaCommandDeps {
  /** A logger writing to stderr at `level` (default info). */
  readonly logger: (level?: string) => Logger;
  /** Writes one result line to stdout (default process.stdout). */
  readonly print?: (line: string) => void;
  /** Default `installShutdownHandlers` (SIGTERM/SIGINT → abort; second signal exits). */
  readonly installShutdown?: typeof installShutdownHandlers;
  /** Ends the process (default `process.exit`); `run` uses it when a failed run leaves timers behind. */
  readonly exit?: (code: number) => void;
}

/** After a failed `run`, the grace for the event loop to empty before the process is ended anyway, ms. */
export const FATAL_EXIT_GRACE_MS = 2000;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function brokerList(value: string): string[] {
  const list = value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (list.length === 0) throw new InvalidArgumentError('expected host:port[,host:port…]');
  return list;
}

/** Default idle time of a bare `--until-idle`, ms. */
export const DEFAULT_UNTIL_IDLE_MS = 5000;

/**
 * Config for the tool commands (record, replay-to-topic), which need only the `kafka` section: the file
 * (if any) and FLOWSENTINEL_* environment, with `--brokers` on top. `features.fields` is filled with a
 * placeholder because these commands never decode features.
 */
function toolConfig(file: string | undefined, brokers: string[] | undefined): AppConfig {
  const overrides: ConfigOverrides = { features: { fields: ['unused'] }, kafka: { brokers } };
  return loadConfig({ ...(file ? { file } : {}), overrides });
}

type RecordFlags = {
  config?: string;
  brokers?: string[];
  topic: string;
  out: string;
  from: 'earliest' | 'latest';
  max?: number;
  untilIdle?: number | true;
};

/**
 * Adds `run`, `record` and `replay-to-topic` to the flowsentinel program. Each action loads the config,
 * installs the graceful-shutdown handlers, and prints a one-line JSON result on stdout.
 */
export function registerKafkaCommands(program: Command, deps: KafkaCommandDeps): void {
  const print = deps.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const shutdownOf = deps.installShutdown ?? installShutdownHandlers;

  program
    .command('run')
    .description('consume Kafka, score, publish anomalies/scores/dead letters, commit at least once')
    .requiredOption('-c, --config <file>', 'YAML or JSON config file (features.fields and kafka.* )')
    .action(async (opts: { config: string }) => {
      const config = loadConfig({ file: opts.config });
      const logger = deps.logger(config.log.level);
      const shutdown = shutdownOf(logger, config.shutdown.timeoutMs);
      try {
        const result = await runKafkaDetector({ config, logger, signal: shutdown.signal });
        print(JSON.stringify(result));
      } catch (err) {
        // kafkajs timers (a consumer restart, kafkajs issue 852; producer retries) can keep a failed
        // process alive with nothing running: give the loop a moment to empty, then end it, non-zero.
        logger.error({ err }, 'run failed: exiting with code 1');
        setTimeout(() => (deps.exit ?? process.exit)(1), FATAL_EXIT_GRACE_MS).unref();
        throw err;
      } finally {
        shutdown.dispose();
      }
    });

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
    .option('--max <n>', 'stop after n records', positiveInt)
    .option(
      '--until-idle [ms]',
      `keep recording until no record arrived for ms (default ${DEFAULT_UNTIL_IDLE_MS}) instead of stopping at the end offsets seen at start`,
      positiveInt,
    )
    .action(async (opts: RecordFlags) => {
      const config = toolConfig(opts.config, opts.brokers);
      const logger = deps.logger(config.log.level);
      const shutdown = shutdownOf(logger, config.shutdown.timeoutMs);
      try {
        const untilIdleMs = opts.untilIdle === true ? DEFAULT_UNTIL_IDLE_MS : opts.untilIdle;
        const result: ConsumeTopicResult = await recordTopic({
          kafka: createKafka(config.kafka, { logger }),
          topic: opts.topic,
          out: opts.out,
          from: opts.from,
          signal: shutdown.signal,
          ...(opts.max === undefined ? {} : { max: opts.max }),
          ...(untilIdleMs === undefined ? {} : { untilIdleMs }),
        });
        print(JSON.stringify({ ...result, topic: opts.topic, out: opts.out }));
      } finally {
        shutdown.dispose();
      }
    });

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
    .action(
      async (
        file: string,
        opts: { toTopic: string; config?: string; brokers?: string[]; partitioning: ReplayPartitioning },
      ) => {
        const config = toolConfig(opts.config, opts.brokers);
        const logger = deps.logger(config.log.level);
        const shutdown = shutdownOf(logger, config.shutdown.timeoutMs);
        try {
          const result = await replayFileToTopic(config, logger, {
            file,
            topic: opts.toTopic,
            partitioning: opts.partitioning,
            signal: shutdown.signal,
          });
          print(JSON.stringify({ ...result, topic: opts.toTopic, file }));
        } finally {
          shutdown.dispose();
        }
      },
    );
}
