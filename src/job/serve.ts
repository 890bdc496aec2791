/** Health of a running job, and the /metrics /healthz /readyz server around it. */
import type { Registry } from 'prom-client';
import type { AppConfig } from '../config/schema.js';
import type { Logger } from '../logging.js';
import { type MetricsServer, type ProbeResult, startMetricsServer } from '../metrics/index.js';

/** Readiness of a job: `starting` until the pipeline runs, `stopped` after it ended. */
export class JobProbe {
  private running = false;
  private finished = false;

  /** `extra`: an additional condition while running (e.g. Kafka consumer joined). */
  constructor(private readonly extra?: () => ProbeResult) {}

  /** The pipeline runs from now on. */
  start(): void {
    this.running = true;
  }

  /** The pipeline ended. */
  stop(): void {
    this.running = false;
    this.finished = true;
  }

  readonly readiness = (): ProbeResult =>
    this.running
      ? (this.extra?.() ?? true)
      : { ready: false, reason: this.finished ? 'stopped' : 'starting' };

  /** Readiness as a boolean, for the ready gauge. */
  readonly ready = (): boolean => {
    const r = this.readiness();
    return typeof r === 'boolean' ? r : r.ready;
  };
}

/** Starts the metrics and health server when `enabled`; undefined otherwise. */
export async function serveJobMetrics(
  enabled: boolean,
  config: AppConfig,
  registry: Registry,
  probe: JobProbe,
  logger: Logger,
): Promise<MetricsServer | undefined> {
  if (!enabled) return undefined;
  const server = await startMetricsServer({
    registry,
    port: config.metrics.port,
    host: config.metrics.host,
    logger,
    readiness: probe.readiness,
  });
  logger.info({ port: server.port }, 'serving /metrics, /healthz, /readyz');
  return server;
}
