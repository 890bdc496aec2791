import { FlowsentinelError } from '../../src/errors.js';

/** The local Kafka broker could not be prepared, started or stopped; `context.logTail` holds its last log lines. */
export class KafkaBrokerError extends FlowsentinelError {}

/** A prerequisite of the local Kafka broker (Java 17+, Maven or cached jars, openssl) is missing. */
export class KafkaUnavailableError extends FlowsentinelError {}
