import { describe, expect, it } from 'vitest';
import { LOG_PROB_FLOOR } from '../../src/flow/normalizing-flow.js';
import { logAbsDet } from '../helpers/flow-checks.js';

describe('flow-checks helper', () => {
  it('computes log|det| of a known matrix', () => {
    expect(
      logAbsDet([
        [2, 1],
        [1, 3],
      ]),
    ).toBeCloseTo(Math.log(5), 12);
    expect(
      logAbsDet([
        [0, 2],
        [3, 0],
      ]),
    ).toBeCloseTo(Math.log(6), 12);
  });
  it('exposes a finite floor', () => {
    expect(Number.isFinite(LOG_PROB_FLOOR)).toBe(true);
  });
});
