/** Loading a command's config with a hint on how to get one when none was given. */
import { CONFIG_FILE_ENV } from '../config/env.js';
import { type ConfigOverrides, loadConfig } from '../config/load.js';
import type { AppConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';

/** How to get a config file: the documented example, written by `init-config`. */
export const INIT_CONFIG_HINT =
  'write the documented example with `flowsentinel init-config > flowsentinel.yaml` ' +
  '(config/flowsentinel.example.yaml), set features.fields to the JSON fields to score, then pass -c flowsentinel.yaml';

/** True when neither `-c` nor $FLOWSENTINEL_CONFIG names a config file. */
export function noConfigGiven(file: string | undefined, env = process.env): boolean {
  return (file === undefined || file === '') && (env[CONFIG_FILE_ENV] ?? '') === '';
}

/**
 * `loadConfig` for `command`; when no config file was given and the config is invalid (no features.fields),
 * the `ConfigError` says a config is needed and how to get one.
 */
export function loadCommandConfig(
  command: string,
  file: string | undefined,
  overrides: ConfigOverrides,
): AppConfig {
  try {
    return loadConfig({ ...(file === undefined ? {} : { file }), overrides });
  } catch (err) {
    if (!(err instanceof ConfigError) || !noConfigGiven(file)) throw err;
    throw new ConfigError(
      `${command} needs a config (-c <file>), and none was given: ${INIT_CONFIG_HINT}.\n${err.message}`,
      {
        cause: err,
      },
    );
  }
}
