/** Kafka integration: client seam, at-least-once source, idempotent sinks, record/replay tools. */
export {
  type CreateKafkaOptions,
  createKafka,
  type KafkaClient,
  type KafkaRetryOptions,
  kafkaLogCreator,
  type ResolvedSecurity,
  resolveSecurity,
} from './client.js';
export { OffsetCommitter, type OffsetCommitterOptions, type OffsetToCommit } from './committer.js';
export {
  type ConsumeTopicOptions,
  type ConsumeTopicResult,
  consumeTopic,
  type RecordStop,
} from './consume-topic.js';
export { KafkaError, type KafkaErrorKind, recordRejection, toKafkaError } from './errors.js';
export {
  KafkaHealth,
  type KafkaHealthOptions,
  STALL_REASONS,
  type Stall,
  type StallReason,
} from './health.js';
export {
  deadLetterMessage,
  jsonMessage,
  OUTPUT_HEADERS,
  scoredEventMessage,
  toReplayMessage,
  toSourceRecord,
} from './messages.js';
export { JavaCompatiblePartitioner, keyPartition, murmur2 } from './partitioner.js';
export { SharedProducer, type SharedProducerOptions } from './producer.js';
export { type RecordTopicOptions, readTopic, recordTopic } from './record.js';
export { scrubText, scrubValue } from './redact.js';
export {
  type ProduceRecordsOptions,
  produceRecords,
  type ReplayPartitioning,
  type ReplayToTopicOptions,
  type ReplayToTopicResult,
  replayToTopic,
} from './replay-to-topic.js';
export {
  createKafkaSinks,
  KafkaSink,
  type KafkaSinkOptions,
  type KafkaSinks,
  type KafkaSinksOptions,
} from './sinks.js';
export { KafkaSource } from './source.js';
export type {
  EmittedRun,
  FetchedBatch,
  KafkaSourceObserver,
  KafkaSourceOptions,
  KafkaSourceStats,
  KafkaStart,
  TopicPartition,
} from './source-types.js';
