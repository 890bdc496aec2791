import { describe, expect, it } from 'vitest';
import { copyRow } from '../../src/detector/reservoir.js';

describe('copyRow', () => {
  it('copies one row of d values between row-major arrays, leaving the rest as is', () => {
    const src = Float32Array.from({ length: 12 }, (_, i) => i + 0.5);
    const dst = new Float32Array(9).fill(-1);
    copyRow(src, 2, dst, 1, 3);
    expect([...dst]).toEqual([-1, -1, -1, 6.5, 7.5, 8.5, -1, -1, -1]);
    copyRow(src, 0, dst, 2, 3);
    expect([...dst.subarray(6)]).toEqual([0.5, 1.5, 2.5]);
  });
});
