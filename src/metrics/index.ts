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
  setDriftLevel,
} from './families.js';
export {
  type MetricsServer,
  MetricsServerError,
  type MetricsServerLogger,
  type MetricsServerOptions,
  type ProbeResult,
  startMetricsServer,
} from './http.js';
export {
  createJobMetrics,
  DEFAULT_MAX_KEY_LABELS,
  type InFlightCount,
  type JobMetrics,
  type JobMetricsOptions,
  KeyAnomalyCounter,
  MAX_KEY_LABEL_LENGTH,
  OTHER_KEY_LABEL,
} from './job-families.js';
export {
  createKafkaConsumerMetrics,
  createStalledGauge,
  type KafkaConsumerMetrics,
} from './kafka-families.js';
export { createKeyedMetrics, type KeyedMetrics, keyedMetricsObserver } from './keyed-families.js';
export { createMetricsRegistry, type MetricsRegistryOptions } from './registry.js';
