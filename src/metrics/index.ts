export {
  ANOMALY_SCORE_BUCKETS,
  BATCH_DURATION_BUCKETS_SECONDS,
  BATCH_SIZE_BUCKETS,
  createDetectorMetrics,
  type DetectorMetrics,
  EVENT_LATENCY_BUCKETS_SECONDS,
  type EventResult,
  LOG_LIKELIHOOD_BUCKETS_NATS,
  recordBatch,
  recordDeadLetters,
  recordDrift,
  recordSuppressed,
  setBackendInfo,
} from './families.js';
export {
  type MetricsServer,
  type MetricsServerLogger,
  type MetricsServerOptions,
  type ProbeResult,
  startMetricsServer,
} from './http.js';
export { createMetricsRegistry, type MetricsRegistryOptions } from './registry.js';
