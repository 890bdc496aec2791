import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLError } from 'yaml';
import { ConfigError } from '../errors.js';
import { CONFIG_FILE_ENV, settingsFromEnv } from './env.js';
import { formatIssues, pathText } from './format.js';
import { type AppConfig, type AppConfigInput, appConfigSchema } from './schema.js';

type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** Config overrides from CLI flags: any subset of the config; undefined values are ignored. */
export type ConfigOverrides = DeepPartial<AppConfigInput>;

/** Options of `loadConfig`. */
export interface LoadConfigOptions {
  /** YAML (.yaml/.yml) or JSON (.json) file; defaults to $FLOWSENTINEL_CONFIG, else no file. */
  readonly file?: string;
  /** Environment to read FLOWSENTINEL_* overrides from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Highest-precedence overrides, e.g. from CLI flags. */
  readonly overrides?: ConfigOverrides;
  /** Reads the file as UTF-8 (injectable for tests; default fs.readFileSync). */
  readonly readFile?: (path: string) => string;
}

/**
 * Loads the application config: file → FLOWSENTINEL_* environment → overrides, then validates once.
 * Throws one `ConfigError` listing every problem as `<key path>: <what is wrong> (got <value>; allowed:
 * <...>)`, with secret values redacted. Returns a deeply frozen `AppConfig`.
 */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env[CONFIG_FILE_ENV];
  const raw: Record<string, unknown> =
    file === undefined || file === '' ? {} : readConfigFile(file, options.readFile);
  const provenance = new Map<string, string>();
  for (const s of settingsFromEnv(env)) {
    setAt(raw, s.path, s.value);
    provenance.set(s.path.join('.'), `env ${s.variable}`);
  }
  if (options.overrides !== undefined) {
    mergeInto(raw, options.overrides as Record<string, unknown>, [], (path) => provenance.set(path, 'flag'));
  }
  const result = appConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = formatIssues(result.error.issues, raw, provenance);
    const where = file === undefined || file === '' ? '' : ` (file ${file})`;
    throw new ConfigError(`invalid configuration${where}:\n  - ${problems.join('\n  - ')}`, {
      context: { file, problems },
    });
  }
  return deepFreeze(result.data) as AppConfig;
}

/** Reads and parses a YAML or JSON config file into a plain object. */
export function readConfigFile(
  file: string,
  readFile = (p: string) => readFileSync(p, 'utf8'),
): Record<string, unknown> {
  const ext = extname(file).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(ext)) {
    throw new ConfigError(`config file ${file} must end in .yaml, .yml or .json`, { context: { file } });
  }
  let text: string;
  try {
    text = readFile(file);
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${file}: ${(cause as Error).message}`, {
      cause,
      context: { file },
    });
  }
  let parsed: unknown;
  try {
    // JSON is parsed by the yaml package too (its JSON schema), so errors never quote file content.
    parsed = parseYaml(text, {
      prettyErrors: false,
      ...(ext === '.json' ? { schema: 'json' as const } : {}),
    });
  } catch (err) {
    throw new ConfigError(`cannot parse config file ${file}: ${parseErrorText(err, text)}`, {
      context: { file },
    });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a mapping of sections at the top level`, {
      context: { file },
    });
  }
  return parsed as Record<string, unknown>;
}

/** Position and error code only: parser messages can quote the offending (possibly secret) text. */
function parseErrorText(err: unknown, text: string): string {
  if (err instanceof YAMLError) {
    const offset = err.pos[0];
    const before = text.slice(0, offset).split('\n');
    return `${err.code} at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
  }
  return 'unreadable content';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!isPlainObject(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path.at(-1);
  if (last !== undefined) node[last] = value;
}

/** Deep-merges `source` into `target`: objects merge, arrays and scalars replace, undefined is skipped. */
function mergeInto(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  path: readonly string[],
  onSet: (dotted: string) => void,
): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const childPath = [...path, key];
    if (isPlainObject(value)) {
      if (!isPlainObject(target[key])) target[key] = {};
      mergeInto(target[key] as Record<string, unknown>, value, childPath, onSet);
    } else {
      target[key] = Array.isArray(value) ? [...value] : value;
      onSet(pathText(childPath));
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
