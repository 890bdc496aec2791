/** The Kafka job (`run`) and the recording tool `replay --to-topic` built on the config's Kafka settings. */
import type { Registry } from 'prom-client';
import type { AppConfig } from '../config/schema.js';
import { createKafka } from '../kafka/client.js';
import { recordRejection } from '../kafka/errors.js';
import { KafkaHealth, STALL_REASONS } from '../kafka/health.js';
import {
  type ReplayPartitioning,
  type ReplayToTopicResult,
  replayToTopic,
} from '../kafka/replay-to-topic.js';
import { createKafkaSinks } from '../kafka/sinks.js';
import { KafkaSource } from '../kafka/source.js';
import type { KafkaSourceOptions, KafkaSourceStats } from '../kafka/source-types.js';
import type { Logger } from '../logging.js';
import { createKafkaConsumerMetrics, createStalledGauge } from '../metrics/kafka-families.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { AckTracker } from '../streams/acks.js';
import type { PipelineSummary } from '../streams/pipeline.js';
import { kafkaMetricsObserver } from './kafka-observer.js';
import { runDetectorJob } from './run.js';

/** Consumer tuning that the config file does not carry (tests, special deployments). */
export type KafkaSourceTuning = Partial<
  Pick<
    KafkaSourceOptions,
    | 'commitIntervalMs'
    | 'sessionTimeoutMs'
    | 'heartbeatIntervalMs'
    | 'rebalanceTimeoutMs'
    | 'maxWaitTimeMs'
    | 'pauseAfterMs'
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
  createStalledGauge(registry, STALL_REASONS, () => health.stall()?.reason);
  const source = new KafkaSource({
    health,
    client: kafka,
    groupId: config.kafka.groupId,
    topics: config.kafka.topics,
    start: config.kafka.start,
    pauseAfterMs: config.kafka.pauseAfterMs,
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
      liveSource: true,
      writesInFlight: config.kafka.writesInFlight,
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
    await closeClients(source, sinks, failed ? config.shutdown.timeoutMs : undefined, logger);
  }
}

/**
 * Closes the consumer (commit, leave) then the producer (flush). After a failure (`boundMs` set) the
 * broker may be gone: closing must not hold the exit longer than `boundMs`.
 */
async function closeClients(
  source: { close(): Promise<void> },
  sinks: { close(): Promise<void> },
  boundMs: number | undefined,
  logger: Logger,
): Promise<void> {
  const closed = (async () => {
    await source.close();
    await sinks.close();
  })();
  if (boundMs === undefined) return closed;
  if (!(await settlesWithin(closed, boundMs))) {
    logger.warn({ timeoutMs: boundMs }, 'closing Kafka clients timed out after a failure');
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
