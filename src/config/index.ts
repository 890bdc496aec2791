export {
  CONFIG_FILE_ENV,
  camelCase,
  ENV_PREFIX,
  type EnvSetting,
  envVariableFor,
  settingsFromEnv,
} from './env.js';
export { type ConfigOverrides, type LoadConfigOptions, loadConfig, readConfigFile } from './load.js';
export { containsSecret, describeValue, isSecretPath, redactConfig } from './redact.js';
export {
  type AppConfig,
  type AppConfigInput,
  appConfigSchema,
  CONFIG_BACKENDS,
  type KafkaConfig,
  MODEL_ENGINES,
  MODEL_TYPES,
  type ModelConfig,
  SASL_MECHANISMS,
  SECRET_PATHS,
  type ThresholdConfig,
  type TrainingConfig,
} from './schema.js';
