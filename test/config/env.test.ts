import { describe, expect, it } from 'vitest';
import { camelCase, envVariableFor, settingsFromEnv } from '../../src/config/env.js';
import { loadConfig } from '../../src/config/load.js';

function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
}

describe('environment mapping', () => {
  it('maps FLOWSENTINEL_A__B_C to a.bC and coerces per schema', () => {
    const settings = settingsFromEnv({
      FLOWSENTINEL_TRAINING__LEARNING_RATE: '0.001',
      FLOWSENTINEL_KAFKA__BROKERS: 'a:9092, b:9092',
      FLOWSENTINEL_TRAINING__TRAIN_ON_ANOMALIES: 'yes',
      FLOWSENTINEL_KAFKA__SSL__REJECT_UNAUTHORIZED: 'false',
      FLOWSENTINEL_FEATURES__FIELDS: 'x,y',
      FLOWSENTINEL_THRESHOLD__WINDOW: '5000',
      FLOWSENTINEL_KAFKA__SASL__PASSWORD: ' spaced secret ',
      FLOWSENTINEL_CONFIG: 'ignored.yaml',
      FLOWSENTINEL_LOG__LEVEL: '',
      OTHER_VAR: '1',
    });
    const byPath = Object.fromEntries(settings.map((s) => [s.path.join('.'), s.value]));
    expect(byPath).toEqual({
      'training.learningRate': 0.001,
      'kafka.brokers': ['a:9092', 'b:9092'],
      'training.trainOnAnomalies': true,
      'kafka.ssl.rejectUnauthorized': false,
      'features.fields': ['x', 'y'],
      'threshold.window': 5000,
      // Strings are kept verbatim (secrets may have spaces).
      'kafka.sasl.password': ' spaced secret ',
    });
  });

  it('leaves unparseable values as strings so validation reports them', () => {
    const [s] = settingsFromEnv({ FLOWSENTINEL_TRAINING__BATCH_SIZE: 'lots' });
    expect(s?.value).toBe('lots');
  });

  it('round-trips every config key through envVariableFor and settingsFromEnv', () => {
    const config = loadConfig({ env: {}, overrides: { features: { fields: ['a'] } } });
    const paths = leafPaths(config);
    expect(paths.length).toBeGreaterThan(40);
    for (const path of paths) {
      const variable = envVariableFor(path);
      expect(variable).toMatch(/^FLOWSENTINEL_[A-Z0-9_]+$/);
      expect(settingsFromEnv({ [variable]: '1' })[0]?.path).toEqual(path);
    }
    expect(camelCase('PASSWORD_FILE')).toBe('passwordFile');
  });
});
