import { FlowsentinelError, type FlowsentinelErrorOptions } from '../errors.js';
import { scrubCause, scrubText } from './redact.js';

/**
 * What went wrong talking to Kafka. `transient` errors are worth retrying (broker restart, leader
 * election, timeouts); every other kind is fatal until someone changes the configuration or the cluster.
 */
export type KafkaErrorKind =
  | 'transient'
  | 'authentication'
  | 'authorization'
  | 'tls'
  | 'config'
  | 'protocol'
  | 'unknown';

/** A Kafka operation failed. `retriable` is true only for `kind: 'transient'`. Never carries secrets. */
export class KafkaError extends FlowsentinelError {
  readonly kind: KafkaErrorKind;

  constructor(
    message: string,
    kind: KafkaErrorKind,
    options: Omit<FlowsentinelErrorOptions, 'retriable'> = {},
  ) {
    super(message, { ...options, retriable: kind === 'transient' });
    this.kind = kind;
  }
}

interface KafkaJsLike {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly type?: unknown;
  readonly code?: unknown;
  readonly retriable?: unknown;
  readonly cause?: unknown;
}

const AUTHORIZATION_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
]);
const AUTHENTICATION_TYPES = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
]);
const CONFIG_TYPES = new Set([
  'INVALID_CONFIG',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_PARTITIONS',
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_REQUIRED_ACKS',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'TOPIC_ALREADY_EXISTS',
  'INVALID_TIMESTAMP',
]);
/** Node TLS verification failures: retrying cannot fix a certificate. */
const TLS_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);
const TLS_MESSAGE =
  /self[- ]signed certificate|altnames|certificate has expired|unable to verify|wrong version number/i;

const HINTS: Record<KafkaErrorKind, string> = {
  transient: 'transient Kafka error, will be retried',
  authentication: 'authentication failed: check kafka.sasl (mechanism, username, password/passwordFile)',
  authorization: 'not authorized: grant the principal ACLs for the topics and the consumer group',
  tls: 'TLS failed: check kafka.ssl.ca (the CA that signed the broker certificate) and that the broker address matches its certificate',
  config: 'rejected by the broker: check the topic and client settings',
  protocol: 'Kafka protocol error',
  unknown: 'Kafka client error',
};

function chain(err: unknown): KafkaJsLike[] {
  const out: KafkaJsLike[] = [];
  let current: unknown = err;
  while (current !== null && typeof current === 'object' && out.length < 8) {
    out.push(current as KafkaJsLike);
    current = (current as KafkaJsLike).cause;
  }
  return out;
}

function kindOf(links: readonly KafkaJsLike[]): KafkaErrorKind {
  for (const e of links) {
    const type = typeof e.type === 'string' ? e.type : '';
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : '';
    if (e.name === 'KafkaJSSASLAuthenticationError' || AUTHENTICATION_TYPES.has(type))
      return 'authentication';
    if (AUTHORIZATION_TYPES.has(type)) return 'authorization';
    if (TLS_CODES.has(code) || TLS_MESSAGE.test(message)) return 'tls';
    if (CONFIG_TYPES.has(type)) return 'config';
  }
  const root = links.at(-1);
  const first = links[0];
  if (first === undefined || root === undefined) return 'unknown';
  // Exhausted retries of a transient condition stay transient: a supervisor may restart later.
  const retriable =
    root.retriable === true || (first.name === 'KafkaJSNumberOfRetriesExceeded' && root.retriable !== false);
  if (retriable || first.retriable === true) return 'transient';
  if (typeof first.type === 'string') return 'protocol';
  return 'unknown';
}

/**
 * Wraps anything a kafkajs call threw into a `KafkaError`: kafkajs `retriable` errors become
 * `kind: 'transient'` (retriable), SASL/ACL/TLS/config problems fatal kinds with a hint saying what to
 * check. `secrets` (passwords, keys) are scrubbed from the message. A `KafkaError` passes through.
 */
export function toKafkaError(err: unknown, action: string, secrets: readonly string[] = []): KafkaError {
  if (err instanceof KafkaError) return err;
  const links = chain(err);
  const kind = kindOf(links);
  const first = links[0];
  const detail = scrubText(typeof first?.message === 'string' ? first.message : String(err), secrets);
  const type = links.map((e) => e.type).find((t) => typeof t === 'string');
  return new KafkaError(`${action}: ${HINTS[kind]}: ${detail}`, kind, {
    // The cause is kept for stack traces, scrubbed of secrets if any error of its chain holds one.
    cause: scrubCause(err, secrets),
    context: {
      action,
      kind,
      ...(typeof first?.name === 'string' ? { name: first.name } : {}),
      ...(type ? { type } : {}),
    },
  });
}

/**
 * Broker error codes that reject the records of a produce request themselves (too large, invalid), so
 * sending them again can never succeed while other records still can.
 */
const RECORD_REJECTION_TYPES = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'INVALID_TIMESTAMP',
]);

/**
 * The broker's reason (`MESSAGE_TOO_LARGE: …`) when `err` is a permanent rejection of the produced records
 * rather than of the connection or the client (for `deadLetterOnReject`); undefined otherwise.
 */
export function recordRejection(err: unknown): string | undefined {
  const links = chain(err);
  const type = links.map((e) => e.type).find((t) => typeof t === 'string' && RECORD_REJECTION_TYPES.has(t));
  if (typeof type !== 'string') return undefined;
  const message = err instanceof KafkaError ? err.message : String(links[0]?.message ?? type);
  return `${type}: ${message}`;
}
