import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { redactConfig } from '../../src/config/redact.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'flowsentinel-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The ConfigError `fn` throws (fails the test if it throws anything else or nothing). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const minimal = { features: { fields: ['a', 'b'] } };

describe('loadConfig', () => {
  it('applies defaults to a minimal config', () => {
    const c = loadConfig({ env: {}, overrides: minimal });
    expect(c.backend).toBe('auto');
    expect(c.threshold).toEqual({ policy: 'quantile', quantile: 0.001, budget: 'normal', window: 20_000 });
    expect(c.training.replayReservoir).toEqual({ size: 10_000, fraction: 0.5 });
    expect(c.kafka.sasl).toBeUndefined();
    expect(c.metrics.port).toBe(9464);
  });

  it('layers file < environment < overrides', () => {
    const path = file(
      'layers.yaml',
      'features: {fields: [a]}\ntraining: {learningRate: 0.01, batchSize: 64}\nkafka: {brokers: ["f:1"]}\n',
    );
    const c = loadConfig({
      file: path,
      env: { FLOWSENTINEL_TRAINING__LEARNING_RATE: '0.002', FLOWSENTINEL_KAFKA__BROKERS: 'e1:9092,e2:9092' },
      overrides: { training: { learningRate: 0.003, stepsPerBatch: undefined } },
    });
    expect(c.training.learningRate).toBe(0.003);
    expect(c.training.batchSize).toBe(64);
    expect(c.training.stepsPerBatch).toBe(1);
    expect(c.kafka.brokers).toEqual(['e1:9092', 'e2:9092']);
  });

  it('reads JSON files and FLOWSENTINEL_CONFIG', () => {
    const path = file('c.json', JSON.stringify({ features: { fields: ['x'] }, log: { level: 'debug' } }));
    expect(loadConfig({ env: { FLOWSENTINEL_CONFIG: path } }).log.level).toBe('debug');
    expect(loadConfig({ file: path, env: {} }).features.fields).toEqual(['x']);
  });

  it('returns a deeply frozen config', () => {
    const c = loadConfig({ env: {}, overrides: minimal });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.training.replayReservoir)).toBe(true);
    expect(Object.isFrozen(c.features.fields)).toBe(true);
    expect(() => {
      (c.training as { learningRate: number }).learningRate = 1;
    }).toThrow(TypeError);
  });

  it('reports every problem in one ConfigError as "<path>: <what> (got <value>; allowed: <...>)"', () => {
    const err = configError(() =>
      loadConfig({
        env: { FLOWSENTINEL_TRAINING__LEARNING_RATE: 'fast', FLOWSENTINEL_TRAINING__LERNING_RATE: '1' },
        overrides: {
          backend: 'gpu' as never,
          model: { layers: 0 },
          threshold: { policy: 'pvalue', alpha: 0.01, window: 1000, minObservations: 5 },
          batching: { maxSize: 500, highWaterMark: 100 },
          kafka: { brokers: ['ok:9092', 'nope'] },
        },
      }),
    );
    const problems = err.context.problems as string[];
    expect(problems).toEqual([
      'backend: is not an allowed value (got "gpu"; allowed: one of auto, wasm, cpu, tensorflow) [from flag]',
      'features: is required (got nothing; allowed: object with keys fields, keyField, maxRecordBytes, maxKeyBytes)',
      'model.layers: must be >= 1 (got 0; allowed: integer >= 1 and <= 64) [from flag]',
      'training.learningRate: must be a number (got "fast"; allowed: number > 0 and <= 1) [from env FLOWSENTINEL_TRAINING__LEARNING_RATE]',
      expect.stringMatching(
        /^training\.lerningRate: unknown key \(got a string; allowed keys: stepsPerBatch, learningRate.*\) \[from env FLOWSENTINEL_TRAINING__LERNING_RATE\]$/,
      ),
      expect.stringMatching(
        /^threshold\.minObservations: must be an integer >= ceil\(1\/alpha\) = 100 .*\(got 5; allowed: integer in \[100, 750\].*\) \[from flag\]$/,
      ),
      'batching.highWaterMark: must be >= batching.maxSize (500) (got 100; allowed: integer >= 500) [from flag]',
      expect.stringMatching(
        /^kafka\.brokers\[1\]: must be host:port \(got "nope"; allowed: string matching .*\) \[from flag\]$/,
      ),
    ]);
    expect(err.message.split('\n')).toHaveLength(problems.length + 1);
    expect(err.retriable).toBe(false);
  });

  it('checks the learning budget: shares in (0, 1], the adaptive floor at most the cap', () => {
    const err = configError(() =>
      loadConfig({
        env: {},
        overrides: {
          ...minimal,
          training: { maxLearnFraction: 0.2, budget: { enabled: true, minLearnFraction: 0.5 } },
        },
      }),
    );
    expect(err.context.problems).toEqual([
      'training.budget.minLearnFraction: must be <= training.maxLearnFraction (0.2); lower it or raise maxLearnFraction (got 0.5; allowed: number > 0 and <= 0.2) [from flag]',
    ]);
    expect(() =>
      loadConfig({ env: {}, overrides: { ...minimal, training: { maxLearnFraction: 0 } } }),
    ).toThrow(/training\.maxLearnFraction: must be > 0/);
    const defaults = loadConfig({ env: {}, overrides: minimal }).training;
    expect([defaults.maxLearnFraction, defaults.budget]).toEqual([
      1,
      { enabled: true, minLearnFraction: 0.1 },
    ]);
  });

  it('takes model.marginal for mixture models only, absent by default (Gaussian components)', () => {
    const mixture = {
      ...minimal,
      model: { type: 'mixture-coupling' as const, marginal: 'logistic' as const },
    };
    expect(loadConfig({ env: {}, overrides: mixture }).model.marginal).toBe('logistic');
    expect(loadConfig({ env: {}, overrides: minimal }).model.marginal).toBeUndefined();
    const unknown = configError(() =>
      loadConfig({
        env: {},
        overrides: { ...minimal, model: { ...mixture.model, marginal: 'cauchy' as never } },
      }),
    );
    expect(unknown.context.problems).toEqual([
      'model.marginal: is not an allowed value (got "cauchy"; allowed: one of gaussian, logistic) [from flag]',
    ]);
    const misplaced = configError(() =>
      loadConfig({ env: {}, overrides: { ...minimal, model: { marginal: 'logistic' } } }),
    );
    expect(misplaced.context.problems).toEqual([
      expect.stringMatching(
        /^model\.marginal: applies to model\.type mixture-cdf and mixture-coupling only \(type is realnvp\); remove it or change the type \(got "logistic"/,
      ),
    ]);
  });

  it('takes model.score density or latent, absent by default (density)', () => {
    const latent = { ...minimal, model: { score: 'latent' as const } };
    expect(loadConfig({ env: {}, overrides: latent }).model.score).toBe('latent');
    expect(loadConfig({ env: {}, overrides: minimal }).model.score).toBeUndefined();
    const unknown = configError(() =>
      loadConfig({ env: {}, overrides: { ...minimal, model: { score: 'typicality' as never } } }),
    );
    expect(unknown.context.problems).toEqual([
      'model.score: is not an allowed value (got "typicality"; allowed: one of density, latent) [from flag]',
    ]);
  });

  it('never prints secrets in errors', () => {
    const err = configError(() =>
      loadConfig({
        env: { FLOWSENTINEL_KAFKA__SASL__PASSWORD: 'hunter2' },
        overrides: {
          ...minimal,
          kafka: {
            sasl: { mechanism: 'plain', username: 'u', passwordFile: '/run/p', pasword: 'hunter3' } as never,
            ssl: { key: 42 as never },
          },
        },
      }),
    );
    expect(err.message).not.toMatch(/hunter[23]/);
    expect(err.message).not.toContain('42');
    expect(err.message).toContain(
      'kafka.sasl.password: set exactly one of password or passwordFile (got [REDACTED]',
    );
    expect(err.message).toContain('kafka.ssl.key: must be a string (got [REDACTED]');
    expect(err.message).toContain('kafka.sasl.pasword: unknown key (got a string;');
  });

  it('reports unreadable, unparseable and misnamed files without quoting their content', () => {
    expect(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} })).toThrow(/cannot read config file/);
    expect(() => loadConfig({ file: file('c.toml', 'a = 1'), env: {} })).toThrow(/\.yaml, \.yml or \.json/);
    const bad = file('bad.yaml', 'kafka:\n  sasl: {password: hunter2\n');
    const err = configError(() => loadConfig({ file: bad, env: {} }));
    expect(err.message).toMatch(/cannot parse config file .*bad\.yaml: [A-Z_]+ at line \d+, column \d+/);
    expect(err.message).not.toContain('hunter2');
    const badJson = file('bad.json', '{"password": hunter2}');
    expect(configError(() => loadConfig({ file: badJson, env: {} })).message).not.toContain('hunter2');
    expect(() => loadConfig({ file: file('list.yaml', '- a\n- b\n'), env: {} })).toThrow(/mapping/);
    expect(() => loadConfig({ file: file('dup.yaml', 'log: {}\nlog: {}\n'), env: {} })).toThrow(
      /DUPLICATE_KEY/,
    );
  });
});

describe('redactConfig', () => {
  it('replaces secret values and leaves the rest (and the original) untouched', () => {
    const c = loadConfig({
      env: {},
      overrides: {
        ...minimal,
        kafka: {
          sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'hunter2' },
          ssl: { key: 'PEM' },
        },
      },
    });
    const r = redactConfig(c);
    expect(r.kafka.sasl?.password).toBe('[REDACTED]');
    expect(r.kafka.ssl?.key).toBe('[REDACTED]');
    expect(r.kafka.sasl?.username).toBe('u');
    expect(r.features).toEqual(c.features);
    expect(JSON.stringify(r)).not.toContain('hunter2');
    expect(c.kafka.sasl?.password).toBe('hunter2');
  });
});
