import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execCommand } from './exec.js';
import { DEFAULT_KAFKA_CACHE, kafkaJarsCached, pinnedKafkaVersion } from './jars.js';

/** Oldest Java that runs a Kafka 4.x broker. */
export const MIN_JAVA_MAJOR = 17;

/** Options of {@link kafkaPrerequisitesProblem}. */
export interface KafkaPrerequisitesOptions {
  /** Also require openssl (needed by `security: true`). */
  readonly security?: boolean;
  readonly version?: string;
  readonly cacheRoot?: string;
}

/** Absolute path of `name` on PATH, or undefined. No process is spawned. */
export function findOnPath(name: string, pathEnv: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Major version from `java -version` output (`version "17.0.15"` → 17, `version "1.8.0_392"` → 8). */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (match?.[1] === undefined) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/**
 * Why the local broker cannot start here, or undefined when it can: Java 17+ on PATH, the jars cached
 * or Maven on PATH to fetch them, and openssl when `security` is set. Cheap (one `java -version`).
 */
export async function kafkaPrerequisitesProblem(
  opts: KafkaPrerequisitesOptions = {},
): Promise<string | undefined> {
  const fix =
    'install openjdk-17-jdk-headless, maven and openssl (see .ci/pre.d/kafka.sh) or set KAFKA_BROKERS';
  if (findOnPath('java') === undefined) return `java not found on PATH; ${fix}`;
  const java = await execCommand('java', ['-version'], { timeoutMs: 30_000 });
  const major = parseJavaMajor(`${java.stderr}\n${java.stdout}`);
  if (major === undefined || major < MIN_JAVA_MAJOR) {
    return `Java ${MIN_JAVA_MAJOR}+ required, found ${major ?? 'an unknown version'}; ${fix}`;
  }
  const version = opts.version ?? (await pinnedKafkaVersion());
  if (!kafkaJarsCached(version, opts.cacheRoot ?? DEFAULT_KAFKA_CACHE) && findOnPath('mvn') === undefined) {
    return `Kafka ${version} jars are not cached and mvn is not on PATH; ${fix}`;
  }
  if (opts.security === true && findOnPath('openssl') === undefined)
    return `openssl not found on PATH; ${fix}`;
  return undefined;
}
