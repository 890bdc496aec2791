import { describe, expect, it } from 'vitest';
import { registerBooleanGradients } from '../../src/flow/bool-grads.js';
import * as tf from '../../src/flow/tf.js';

describe('registerBooleanGradients', () => {
  it('lets masks built from variable-dependent values sit on a differentiated path', () => {
    registerBooleanGradients();
    registerBooleanGradients();
    const v = tf.variable(tf.tensor1d([1, -2, 3]));
    const grads = tf.tidy(() => {
      const loss = (): tf.Scalar => {
        const pos = tf.logicalAnd(tf.greater(v, 0), tf.logicalNot(tf.equal(v, 2)));
        const keep = tf.logicalOr(pos, tf.lessEqual(v, -5));
        const any = tf.cast(tf.any(keep), 'float32');
        const all = tf.cast(tf.all(tf.notEqual(v, 0)), 'float32');
        return tf.mul(tf.sum(tf.where(keep, tf.square(v), tf.zerosLike(v))), tf.add(any, all)) as tf.Scalar;
      };
      const { value, grads } = tf.variableGrads(loss, [v]);
      return { value: value.dataSync()[0], g: Array.from(grads[v.name]!.dataSync()) };
    });
    // loss = 2 * (1 + 9); d/dv = 2 * 2v on the kept entries, 0 elsewhere.
    expect(grads.value).toBeCloseTo(20, 5);
    expect(grads.g).toEqual([4, 0, 12]);
    v.dispose();
  });
});
