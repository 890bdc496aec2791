import { appConfigSchema } from './schema.js';
import { kindsAt } from './schema-walk.js';

/** Prefix of configuration environment variables. */
export const ENV_PREFIX = 'FLOWSENTINEL_';
/** Environment variable naming the config file (not itself a config key). */
export const CONFIG_FILE_ENV = 'FLOWSENTINEL_CONFIG';

/** One environment variable turned into a config key. */
export interface EnvSetting {
  /** The variable, e.g. FLOWSENTINEL_TRAINING__LEARNING_RATE. */
  readonly variable: string;
  /** Config key path, e.g. ['training', 'learningRate']. */
  readonly path: readonly string[];
  /** The value coerced per schema (left a string when it does not parse, so validation reports it). */
  readonly value: unknown;
}

/**
 * Maps `FLOWSENTINEL_A__B_C=v` to key path a.bC: the prefix is dropped, `__` separates levels and each
 * level's SNAKE_CASE becomes camelCase. Values are coerced by the schema at that path: numbers, booleans
 * (true/false/1/0/yes/no/on/off) and comma-separated lists. Empty variables are ignored, as is
 * FLOWSENTINEL_CONFIG (the file path). Unknown keys are kept so validation can reject them.
 */
export function settingsFromEnv(env: Readonly<Record<string, string | undefined>>): EnvSetting[] {
  const settings: EnvSetting[] = [];
  for (const variable of Object.keys(env).sort()) {
    const raw = env[variable];
    if (!variable.startsWith(ENV_PREFIX) || variable === CONFIG_FILE_ENV || raw === undefined || raw === '')
      continue;
    const path = variable.slice(ENV_PREFIX.length).split('__').map(camelCase);
    settings.push({ variable, path, value: coerce(raw, path) });
  }
  return settings;
}

/** SNAKE_CASE → snakeCase. */
export function camelCase(segment: string): string {
  return segment.toLowerCase().replace(/_+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** The environment variable that sets `path`, e.g. ['kafka','sasl','passwordFile'] → FLOWSENTINEL_KAFKA__SASL__PASSWORD_FILE. */
export function envVariableFor(path: readonly string[]): string {
  return ENV_PREFIX + path.map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');
}

function coerce(raw: string, path: readonly string[]): unknown {
  const kinds = kindsAt(appConfigSchema, path);
  if (kinds.has('array')) {
    const elementKinds = kindsAt(appConfigSchema, [...path, 0]);
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((s) => coerceScalar(s, elementKinds));
  }
  const scalar = coerceScalar(raw.trim(), kinds);
  return typeof scalar === 'string' ? raw : scalar;
}

function coerceScalar(text: string, kinds: ReadonlySet<string>): unknown {
  if (kinds.has('number')) {
    const n = Number(text);
    if (text !== '' && Number.isFinite(n)) return n;
  }
  if (kinds.has('boolean')) {
    const lower = text.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lower)) return true;
    if (['false', '0', 'no', 'off'].includes(lower)) return false;
  }
  return text;
}
