/**
 * Test-side access to Kafka. `kafkaBrokers()` returns KAFKA_BROKERS (comma-separated) when set, else the
 * local broker that test/kafka.global-setup.ts starts lazily on first request. `describeKafka` skips its
 * suite only outside CI when the local broker cannot run here (no Java/Maven/openssl).
 */
import { describe, inject } from 'vitest';
import { KafkaUnavailableError } from '../../scripts/kafka/errors.js';

/** Local broker details served by the global setup (JSON-serialisable subset of KafkaBroker). */
export interface LocalKafkaInfo {
  readonly brokers: string[];
  readonly saslBrokers: string[];
  readonly sslBrokers: string[];
  readonly scram: { readonly username: string; readonly password: string };
  /** PEM file of the CA that signed the SSL listener's certificate (SAN IP:127.0.0.1). */
  readonly caFile: string;
  readonly version: string;
}

/** What test/kafka.global-setup.ts provides to every test file. */
export interface KafkaProvided {
  /** GET `${controlUrl}/broker` starts the local broker once (if needed) and returns LocalKafkaInfo. */
  readonly controlUrl: string;
  /** Why the local broker cannot run here, or null. */
  readonly unavailable: string | null;
}

declare module 'vitest' {
  export interface ProvidedContext {
    flowsentinelKafka: KafkaProvided;
  }
}

/** True on CI (CI set and not 'false'/'0'): there Kafka tests never skip, they fail. */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/** KAFKA_BROKERS split on commas, or undefined when unset/blank. */
export function externalKafkaBrokers(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const list = (env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  return list.length > 0 ? list : undefined;
}

const NOT_REGISTERED =
  "test/kafka.global-setup.ts is not registered: add it to 'globalSetup' in vitest.config.ts, or set KAFKA_BROKERS";

function provided(): KafkaProvided | undefined {
  return inject('flowsentinelKafka');
}

/**
 * Why a suite needing Kafka cannot run: undefined when KAFKA_BROKERS serves it (not for `security`
 * suites, which need the local broker's SCRAM/SSL listeners) or the local broker can start.
 */
export function kafkaUnavailableReason(opts: { security?: boolean } = {}): string | undefined {
  if (opts.security !== true && externalKafkaBrokers() !== undefined) return undefined;
  return provided()?.unavailable ?? undefined;
}

let localInfo: Promise<LocalKafkaInfo> | undefined;

/** The local broker (started on first call across the whole run). Throws KafkaUnavailableError if it cannot run. */
export function localKafka(): Promise<LocalKafkaInfo> {
  localInfo ??= requestLocalKafka();
  return localInfo;
}

async function requestLocalKafka(): Promise<LocalKafkaInfo> {
  const p = provided();
  if (p === undefined) throw new KafkaUnavailableError(NOT_REGISTERED);
  if (p.unavailable !== null)
    throw new KafkaUnavailableError(`local Kafka broker unavailable: ${p.unavailable}`);
  const response = await fetch(`${p.controlUrl}/broker`);
  const body = (await response.json()) as LocalKafkaInfo | { error: string };
  if ('error' in body) throw new KafkaUnavailableError(`local Kafka broker failed: ${body.error}`);
  return body;
}

/** Bootstrap brokers for tests: KAFKA_BROKERS when set, else the local broker's PLAINTEXT listener. */
export async function kafkaBrokers(): Promise<string[]> {
  return externalKafkaBrokers() ?? (await localKafka()).brokers;
}

/**
 * `describe` for suites that need Kafka. Outside CI, when the local broker cannot run here, the suite is
 * skipped (the global setup prints one line saying why); on CI it runs and fails loudly instead.
 */
export function describeKafka(name: string, fn: () => void, opts: { security?: boolean } = {}): void {
  const skip = !isCI() && kafkaUnavailableReason(opts) !== undefined;
  describe.skipIf(skip)(name, fn);
}

/** Unique, Kafka-legal name for a topic or group: `<prefix>-<time36>-<counter>`. */
let nameCounter = 0;
export function uniqueKafkaName(prefix: string): string {
  nameCounter += 1;
  return `${prefix}-${Date.now().toString(36)}-${process.pid}-${nameCounter}`;
}
