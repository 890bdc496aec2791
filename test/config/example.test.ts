import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';

const examplePath = fileURLToPath(new URL('../../config/flowsentinel.example.yaml', import.meta.url));

/** Dotted paths of every leaf (scalar or list) in a plain object. */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix === '' ? k : `${prefix}.${k}`));
}

describe('config/flowsentinel.example.yaml', () => {
  it('validates', () => {
    const config = loadConfig({ file: examplePath, env: {} });
    expect(config.features.fields).toEqual(['bytes_in', 'bytes_out', 'duration_ms', 'packets']);
    expect(config.kafka.sasl?.passwordFile).toBe('/run/secrets/kafka-password');
    expect(config.threshold.policy).toBe('quantile');
  });

  it('spells out every key the loaded config has (nothing is left to a hidden default)', () => {
    const raw = parse(readFileSync(examplePath, 'utf8')) as unknown;
    const written = new Set(leafPaths(raw));
    const loaded = leafPaths(loadConfig({ file: examplePath, env: {} }));
    expect(loaded.filter((p) => !written.has(p))).toEqual([]);
  });

  it('documents the alternative threshold policies and the sasl password in comments', () => {
    const text = readFileSync(examplePath, 'utf8');
    for (const key of [
      'policy: pvalue',
      'alpha:',
      'policy: static',
      'logLikelihood:',
      'scale:',
      'password:',
    ]) {
      expect(text).toContain(key);
    }
  });
});
