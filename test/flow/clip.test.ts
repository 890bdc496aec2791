import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { clipByGlobalNorm, clippingEnabled, globalNorm } from '../../src/flow/clip.js';
import * as tf from '../../src/flow/tf.js';

function norm64(arrays: number[][]): number {
  return Math.sqrt(arrays.flat().reduce((a, v) => a + v * v, 0));
}

describe('globalNorm / clipByGlobalNorm', () => {
  const a = [3, -4, 1.5, 2];
  const b = [0.5, -2, 7];

  it('computes the global L2 norm over all tensors', () => {
    const expected = norm64([a, b]);
    const n = tf.tidy(() => globalNorm([tf.tensor2d(a, [2, 2]), tf.tensor1d(b)]).dataSync()[0]!);
    expect(n).toBeCloseTo(expected, 5);
    expect(tf.tidy(() => globalNorm([]).dataSync()[0])).toBe(0);
  });

  it('scales the grads to norm maxNorm, keeping direction, and reports the pre-clip norm', () => {
    const before = tf.memory().numTensors;
    const grads = [tf.tensor2d(a, [2, 2]), tf.tensor1d(b)];
    const r = clipByGlobalNorm(grads, 2);
    const out = r.grads.map((g) => Array.from(g.dataSync()));
    const full = norm64([a, b]);
    expect(r.norm.dataSync()[0]).toBeCloseTo(full, 5);
    expect(norm64(out)).toBeCloseTo(2, 5);
    expect(r.grads[0]!.shape).toEqual([2, 2]);
    for (const [i, v] of [...a, ...b].entries()) expect(out.flat()[i]).toBeCloseTo((v * 2) / full, 6);
    for (const t of [...grads, ...r.grads, r.norm]) t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves grads below the threshold unchanged', () => {
    tf.tidy(() => {
      const r = clipByGlobalNorm([tf.tensor1d([0.3, 0.4])], 1);
      expect(Array.from(r.grads[0]!.dataSync())).toEqual(Array.from(new Float32Array([0.3, 0.4])));
      expect(r.norm.dataSync()[0]).toBeCloseTo(0.5, 6);
    });
  });

  it.each([0, -1, Number.POSITIVE_INFINITY])(
    'is disabled for maxNorm = %s but still reports the norm',
    (m) => {
      expect(clippingEnabled(m)).toBe(false);
      tf.tidy(() => {
        const r = clipByGlobalNorm([tf.tensor1d([30, 40])], m);
        expect(Array.from(r.grads[0]!.dataSync())).toEqual([30, 40]);
        expect(r.norm.dataSync()[0]).toBeCloseTo(50, 4);
      });
    },
  );

  it('handles zero gradients without dividing by zero', () => {
    tf.tidy(() => {
      const r = clipByGlobalNorm([tf.zeros([3])], 1);
      expect(Array.from(r.grads[0]!.dataSync())).toEqual([0, 0, 0]);
      expect(r.norm.dataSync()[0]).toBe(0);
    });
  });

  it('propagates non-finite gradients into a non-finite norm', () => {
    tf.tidy(() => {
      const r = clipByGlobalNorm([tf.tensor1d([1, Number.NaN])], 1);
      expect(Number.isNaN(r.norm.dataSync()[0])).toBe(true);
      const inf = clipByGlobalNorm([tf.tensor1d([1, Number.POSITIVE_INFINITY])], 1);
      expect(inf.norm.dataSync()[0]).toBe(Number.POSITIVE_INFINITY);
    });
  });

  it('rejects a NaN maxNorm', () => {
    expect(() => clipByGlobalNorm([], Number.NaN)).toThrow(InvalidOptionError);
  });
});
