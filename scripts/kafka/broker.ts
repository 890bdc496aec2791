import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionError } from '../../src/errors.js';
import { KafkaBrokerError } from './errors.js';
import { execCommand, freePorts, tailFile } from './exec.js';
import { ensureKafkaJars, type KafkaJars } from './jars.js';
import { brokerLifecycle } from './lifecycle.js';
import { type JvmProcess, spawnJvm } from './process.js';
import { type KafkaPorts, renderServerProperties } from './properties.js';
import { probeKafka, waitForPort } from './readiness.js';
import { generateKafkaTls } from './tls.js';

/** Options of {@link startKafkaBroker}. */
export interface StartKafkaBrokerOptions {
  /** Also open a SASL_PLAINTEXT listener (SCRAM-SHA-256/512) and an SSL listener (throw-away CA). */
  readonly security?: boolean;
  /** Kafka version; default: the one pinned in scripts/kafka/pom.xml. */
  readonly version?: string;
  /** Give up (and print the broker log) after this many ms, jar download excluded. Default 120 000. */
  readonly startTimeoutMs?: number;
  /** stop(): ms between SIGTERM and SIGKILL. Default 15 000. */
  readonly stopGraceMs?: number;
  /** JVM max heap in MiB (-Xmx). Default 768; the initial heap is 256 MiB or less. */
  readonly maxHeapMb?: number;
  /** Broker log level (slf4j-simple); default 'warn', or env KAFKA_BROKER_LOG_LEVEL. 'info' helps debugging. */
  readonly logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /** Jar cache root; default `<repo>/.cache/kafka`. */
  readonly cacheRoot?: string;
  /** Progress lines; default: to stderr prefixed with `[kafka]`. */
  readonly log?: (line: string) => void;
  /** Random bytes for the cluster id and passwords; default crypto.randomBytes. */
  readonly randomBytes?: (size: number) => Buffer;
}

/** SCRAM user created at storage format time. */
export interface KafkaScramCredentials {
  readonly username: string;
  readonly password: string;
  /** Mechanisms the user exists for, in kafkajs spelling. */
  readonly mechanisms: readonly ('scram-sha-256' | 'scram-sha-512')[];
}

/** A running single-node KRaft broker. */
export interface KafkaBroker {
  /** PLAINTEXT bootstrap addresses (`127.0.0.1:<port>`). */
  readonly brokers: string[];
  /** SASL_PLAINTEXT (SCRAM) bootstrap addresses; only with `security`. */
  readonly saslBrokers?: string[];
  /** SSL bootstrap addresses; only with `security`. */
  readonly sslBrokers?: string[];
  /** SCRAM credentials valid on `saslBrokers`; only with `security`. */
  readonly scram?: KafkaScramCredentials;
  /** PEM of the CA that signed the SSL listener's certificate (SAN IP:127.0.0.1); only with `security`. */
  readonly caFile?: string;
  readonly version: string;
  readonly clusterId: string;
  /** The JVM's pid (a new one after `restart()`). */
  readonly pid: number;
  /** Broker stdout/stderr (slf4j-simple at WARN). Removed by stop(). */
  readonly logFile: string;
  /** Fresh KRaft data dir (log.dirs). Removed by stop(). */
  readonly dataDir: string;
  /** Temp folder holding dataDir, logFile, server.properties and TLS material. Removed by stop(). */
  readonly workDir: string;
  /** Wall time from JVM spawn to ready, in ms (of the last start). */
  readonly startupMs: number;
  /** True between `halt()` and `restart()`. */
  readonly halted: boolean;
  /**
   * Stops the JVM (SIGTERM, SIGKILL after the grace period) but keeps the data dir, the config and the
   * ports: a broker outage with its data kept. Idempotent while halted.
   */
  halt(): Promise<void>;
  /**
   * Starts a halted broker again on the same data dir, cluster id and ports; resolves once it is ready.
   * Fails if another process took one of its ports meanwhile (the broker log tail is in the error).
   */
  restart(): Promise<void>;
  /** SIGTERM, SIGKILL after the grace period, then removes workDir. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const LOG_TAIL_LINES = 200;
const MAX_PORT_ATTEMPTS = 3;

/** Kafka's cluster id: 16 random bytes as 22 URL-safe base64 chars, never starting with '-' (CLI flag). */
export function newClusterId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Starts a single-node KRaft Kafka broker on free 127.0.0.1 ports from the Maven-cached jars, with a fresh
 * data dir, and resolves once it serves topic creation and group coordination. On failure the broker log
 * tail is printed and a {@link KafkaBrokerError} is thrown.
 */
export async function startKafkaBroker(opts: StartKafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const o = validate(opts);
  const jars = await ensureKafkaJars({ version: o.version, cacheRoot: o.cacheRoot, log: o.log });
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(o, jars);
    } catch (e) {
      // Free ports are released before the JVM binds them: another process may win one in between.
      const lostPortRace =
        e instanceof KafkaBrokerError && /Address already in use/.test(String(e.context.logTail));
      if (!lostPortRace || attempt >= MAX_PORT_ATTEMPTS) throw e;
      o.log('a listener port was taken before the broker bound it; retrying with new ports');
    }
  }
}

async function startOnce(o: ValidOptions, jars: KafkaJars): Promise<KafkaBroker> {
  const workDir = await mkdtemp(join(tmpdir(), 'flowsentinel-kafka-'));
  const dataDir = join(workDir, 'data');
  const logFile = join(workDir, 'broker.log');
  const propertiesFile = join(workDir, 'server.properties');
  let jvm: JvmProcess | undefined;
  const fail = async (message: string, cause?: unknown): Promise<never> => {
    await jvm?.stop(2_000);
    const logTail = await tailFile(logFile, LOG_TAIL_LINES);
    o.log(`broker log (${logFile}), last ${LOG_TAIL_LINES} lines:\n${logTail || '(empty)'}`);
    await rm(workDir, { recursive: true, force: true });
    throw new KafkaBrokerError(`Kafka ${jars.version} broker failed to start: ${message}`, {
      cause,
      context: { logTail, workDir },
    });
  };
  try {
    await mkdir(dataDir);
    const [plaintext = 0, controller = 0, sasl, ssl] = await freePorts(o.security ? 4 : 2);
    const ports: KafkaPorts = o.security ? { plaintext, controller, sasl, ssl } : { plaintext, controller };
    const tls = o.security ? await generateKafkaTls(join(workDir, 'tls'), [HOST]) : undefined;
    const keystore = tls && { file: tls.keystoreFile, password: tls.keystorePassword };
    await writeFile(
      propertiesFile,
      renderServerProperties({ kafkaVersion: jars.version, host: HOST, ports, dataDir, keystore }),
    );
    const clusterId = newClusterId(o.randomBytes);
    const scram = o.security ? scramUser(o.randomBytes) : undefined;
    await formatStorage(jars.libsDir, propertiesFile, clusterId, scram);

    const launch = async (): Promise<number> => {
      const started = Date.now();
      jvm = spawnJvm({ args: jvmArgs(jars.libsDir, o, propertiesFile), cwd: workDir, logFile, workDir });
      await waitUntilReady(jvm, ports.plaintext, started + o.startTimeoutMs);
      const ms = Date.now() - started;
      o.log(`Kafka ${jars.version} ready on ${HOST}:${ports.plaintext} in ${ms} ms (pid ${jvm.pid})`);
      return ms;
    };
    const lifecycle = brokerLifecycle({ ...o, workDir, logFile, current: () => jvm, launch });
    await lifecycle.start();
    return {
      brokers: [`${HOST}:${ports.plaintext}`],
      ...(scram && tls && { saslBrokers: [`${HOST}:${sasl}`], sslBrokers: [`${HOST}:${ssl}`], scram }),
      ...(tls && { caFile: tls.caFile }),
      version: jars.version,
      clusterId,
      get pid() {
        return jvm?.pid ?? -1;
      },
      logFile,
      dataDir,
      workDir,
      get startupMs() {
        return lifecycle.startupMs();
      },
      get halted() {
        return lifecycle.halted();
      },
      halt: lifecycle.halt,
      restart: lifecycle.restart,
      stop: lifecycle.stop,
    };
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e), e);
  }
}

type ValidOptions = ReturnType<typeof validate>;

function validate(opts: StartKafkaBrokerOptions) {
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v <= 0) {
      throw new InvalidOptionError(`startKafkaBroker: ${name} must be a positive number, got ${value}`);
    }
    return v;
  };
  const maxHeapMb = positive('maxHeapMb', opts.maxHeapMb, 768);
  if (maxHeapMb < 128)
    throw new InvalidOptionError(`startKafkaBroker: maxHeapMb must be >= 128, got ${maxHeapMb}`);
  return {
    security: opts.security ?? false,
    version: opts.version,
    startTimeoutMs: positive('startTimeoutMs', opts.startTimeoutMs, 120_000),
    stopGraceMs: positive('stopGraceMs', opts.stopGraceMs, 15_000),
    maxHeapMb,
    logLevel: opts.logLevel ?? logLevelFromEnv(),
    cacheRoot: opts.cacheRoot,
    log: opts.log ?? ((line: string) => process.stderr.write(`[kafka] ${line}\n`)),
    randomBytes: opts.randomBytes ?? randomBytes,
  };
}

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

function logLevelFromEnv(): (typeof LOG_LEVELS)[number] {
  const env = process.env.KAFKA_BROKER_LOG_LEVEL?.toLowerCase();
  if (env === undefined || env === '') return 'warn';
  const level = LOG_LEVELS.find((l) => l === env);
  if (level === undefined) {
    throw new InvalidOptionError(
      `KAFKA_BROKER_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${env}'`,
    );
  }
  return level;
}

function scramUser(random: (size: number) => Buffer): KafkaScramCredentials {
  // Hex only: --add-scram parses `[name=...,password=...]`, so ',', ']' and '"' must not appear.
  return {
    username: 'flowsentinel',
    password: random(18).toString('hex'),
    mechanisms: ['scram-sha-256', 'scram-sha-512'],
  };
}

function jvmArgs(libsDir: string, o: ValidOptions, propertiesFile: string): string[] {
  const maxHeapMb = o.maxHeapMb;
  return [
    `-Xms${Math.min(256, maxHeapMb)}m`,
    `-Xmx${maxHeapMb}m`,
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dorg.slf4j.simpleLogger.defaultLogLevel=${o.logLevel}`,
    '-Dorg.slf4j.simpleLogger.showDateTime=true',
    '-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS',
    '-cp',
    `${libsDir}/*`,
    'kafka.Kafka',
    propertiesFile,
  ];
}

async function formatStorage(
  libsDir: string,
  propertiesFile: string,
  clusterId: string,
  scram: KafkaScramCredentials | undefined,
): Promise<void> {
  const scramArgs = (scram?.mechanisms ?? []).flatMap((m) => [
    '--add-scram',
    `${m.toUpperCase()}=[name=${scram?.username},password=${scram?.password}]`,
  ]);
  // biome-ignore format: flags grouped by meaning
  const args = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-cp', `${libsDir}/*`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propertiesFile,
    '--ignore-formatted', ...scramArgs];
  const result = await execCommand('java', args, { timeoutMs: 120_000 });
  if (result.code !== 0) {
    throw new KafkaBrokerError(
      `kafka-storage format failed (exit ${result.code}): ${result.stderr}${result.stdout}`,
    );
  }
}

async function waitUntilReady(jvm: JvmProcess, port: number, deadline: number): Promise<void> {
  const exitMessage = (): string => {
    const e = jvm.exit();
    return `the JVM exited early (code ${e?.code}, signal ${e?.signal})`;
  };
  const open = await waitForPort(HOST, port, deadline, () => jvm.exit() !== undefined);
  if (!open) throw new Error(jvm.exit() ? exitMessage() : `port ${HOST}:${port} did not open in time`);
  const probe = probeKafka([`${HOST}:${port}`]);
  const exited = jvm.exited.then(() => {
    throw new Error(exitMessage());
  });
  const timeout = new Promise<never>((_, reject) => {
    const timer = setTimeout(
      () => reject(new Error('readiness probe timed out')),
      Math.max(0, deadline - Date.now()),
    );
    void probe.finally(() => clearTimeout(timer)).catch(() => undefined);
  });
  exited.catch(() => undefined);
  await Promise.race([probe, exited, timeout]);
}
