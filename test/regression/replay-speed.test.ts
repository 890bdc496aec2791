/**
 * `replay.speed: 0` used to mean "as fast as possible" silently (issue 12). The config now takes 'max' or
 * a positive factor, rejects 0 naming 'max', and defaults to 'max'.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const base = { features: { fields: ['x'] } };

describe('replay.speed', () => {
  it("defaults to 'max'", () => {
    expect(loadConfig({ env: {}, overrides: base }).replay.speed).toBe('max');
  });

  it("accepts 'max' and positive factors, also from the environment", () => {
    expect(loadConfig({ env: {}, overrides: { ...base, replay: { speed: 2.5 } } }).replay.speed).toBe(2.5);
    const env = { FLOWSENTINEL_REPLAY__SPEED: 'max' };
    expect(loadConfig({ env, overrides: base }).replay.speed).toBe('max');
    expect(loadConfig({ env: { FLOWSENTINEL_REPLAY__SPEED: '4' }, overrides: base }).replay.speed).toBe(4);
  });

  it("rejects 0 with a message that says to use 'max'", () => {
    const load = () => loadConfig({ env: {}, overrides: { ...base, replay: { speed: 0 } } });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/replay\.speed: 0 is not a speed: use 'max'/);
  });

  it('rejects negative factors', () => {
    expect(() => loadConfig({ env: {}, overrides: { ...base, replay: { speed: -1 } } })).toThrow(
      /replay\.speed: must be 'max' or a finite number > 0/,
    );
  });
});
