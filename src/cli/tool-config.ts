import { type ConfigOverrides, loadConfig } from '../config/load.js';
import type { AppConfig } from '../config/schema.js';

/**
 * Config for the tool commands (record, replay-to-topic), which need only the `kafka` section: the file
 * (if any) and FLOWSENTINEL_* environment, with `--brokers` on top. `features.fields` is filled with a
 * placeholder because these commands never decode features.
 */
export function toolConfig(file: string | undefined, brokers: string[] | undefined): AppConfig {
  const overrides: ConfigOverrides = { features: { fields: ['unused'] }, kafka: { brokers } };
  return loadConfig({ ...(file ? { file } : {}), overrides });
}
