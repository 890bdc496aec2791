import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KafkaBrokerError } from './errors.js';
import { execCommand } from './exec.js';

/** The POM whose `kafka.version` property is the single place the Kafka version is pinned. */
export const KAFKA_POM = fileURLToPath(new URL('./pom.xml', import.meta.url));
/** Repository root (two levels above this file). */
export const REPO_ROOT = resolve(dirname(KAFKA_POM), '..', '..');
/** Default jar cache, git-ignored: `<repo>/.cache/kafka/<version>/libs`. */
export const DEFAULT_KAFKA_CACHE = join(REPO_ROOT, '.cache', 'kafka');
/** Written last into a complete libs dir; a dir without it is a partial download and is fetched again. */
const COMPLETE_MARKER = '.complete';
/** Plugin pinned so the fetch does not depend on whatever version Maven would pick. */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies';

/** Kafka version pinned in scripts/kafka/pom.xml (`<kafka.version>`). */
export async function pinnedKafkaVersion(pomFile: string = KAFKA_POM): Promise<string> {
  const pom = await readFile(pomFile, 'utf8');
  const match = /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(pom);
  if (match?.[1] === undefined) throw new KafkaBrokerError(`no <kafka.version> property in ${pomFile}`);
  return match[1];
}

/** Where the jars of `version` live: `<cacheRoot>/<version>/libs`. */
export function kafkaLibsDir(version: string, cacheRoot: string = DEFAULT_KAFKA_CACHE): string {
  return join(cacheRoot, version, 'libs');
}

/** True when the jars of `version` are fully downloaded into the cache. */
export function kafkaJarsCached(version: string, cacheRoot: string = DEFAULT_KAFKA_CACHE): boolean {
  return existsSync(join(kafkaLibsDir(version, cacheRoot), COMPLETE_MARKER));
}

/** Options of {@link ensureKafkaJars}. */
export interface EnsureKafkaJarsOptions {
  /** Kafka version; default: the one pinned in pom.xml (other versions are passed as `-Dkafka.version`). */
  readonly version?: string;
  readonly cacheRoot?: string;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
  /** Maven executable (default `mvn`). */
  readonly mvn?: string;
}

/** Resolved broker classpath. */
export interface KafkaJars {
  readonly version: string;
  /** Directory holding every runtime jar; the classpath is `<libsDir>/*`. */
  readonly libsDir: string;
  /** True when this call downloaded the jars, false when they were cached. */
  readonly fetched: boolean;
}

/**
 * Makes sure the broker jars are in the cache, fetching them with Maven when missing. Idempotent and
 * safe against interrupted or concurrent fetches: jars land in a private temp dir that is renamed into
 * place only once complete.
 */
export async function ensureKafkaJars(opts: EnsureKafkaJarsOptions = {}): Promise<KafkaJars> {
  const version = opts.version ?? (await pinnedKafkaVersion());
  const cacheRoot = opts.cacheRoot ?? DEFAULT_KAFKA_CACHE;
  const libsDir = kafkaLibsDir(version, cacheRoot);
  if (kafkaJarsCached(version, cacheRoot)) return { version, libsDir, fetched: false };

  const tmpDir = `${libsDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  opts.log?.(`fetching Kafka ${version} jars with Maven into ${libsDir} (first run only)`);
  try {
    await fetchWithMaven(opts.mvn ?? 'mvn', version, tmpDir);
    await writeFile(join(tmpDir, COMPLETE_MARKER), `${version}\n`);
    if (!kafkaJarsCached(version, cacheRoot)) {
      await rm(libsDir, { recursive: true, force: true });
      await rename(tmpDir, libsDir).catch((e: unknown) => {
        // A concurrent fetch won the race: its complete copy is as good as ours.
        if (!kafkaJarsCached(version, cacheRoot)) throw e;
      });
    }
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
  return { version, libsDir, fetched: true };
}

async function fetchWithMaven(mvn: string, version: string, outputDir: string): Promise<void> {
  const args = [
    '-q',
    '-B',
    '-f',
    KAFKA_POM,
    DEPENDENCY_PLUGIN,
    `-Dkafka.version=${version}`,
    '-DincludeScope=runtime',
    `-DoutputDirectory=${outputDir}`,
  ];
  const result = await execCommand(mvn, args, { timeoutMs: 15 * 60_000 }).catch((e: unknown) => {
    throw new KafkaBrokerError(
      `cannot run Maven ('${mvn}'): install Maven 3.8+ or pre-fetch with .ci/pre.d/kafka.sh`,
      {
        cause: e,
      },
    );
  });
  const jar = join(outputDir, `kafka_2.13-${version}.jar`);
  if (result.code !== 0 || !existsSync(jar)) {
    throw new KafkaBrokerError(
      `Maven could not fetch org.apache.kafka:kafka_2.13:${version} (exit ${result.code}); is Maven Central reachable?\n` +
        `${result.stdout}\n${result.stderr}`.trim().slice(-4000),
      { context: { version, exitCode: result.code } },
    );
  }
}
