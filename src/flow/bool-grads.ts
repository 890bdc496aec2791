// Imports tfjs-core directly (not ./tf.js) because tf.ts calls this at load time.
import * as tf from '@tensorflow/tfjs-core';

/**
 * Kernels with a boolean output that tfjs 4.22 registers no gradient for, with their input names.
 * Autodiff throws "gradient function not found for LogicalAnd" as soon as one of them sits between a
 * variable and the loss, e.g. a finiteness mask `logicalAnd(valid, isFinite(raw))` feeding `tf.where`.
 */
const BOOLEAN_KERNELS: Readonly<Record<string, readonly string[]>> = {
  Equal: ['a', 'b'],
  NotEqual: ['a', 'b'],
  Greater: ['a', 'b'],
  Less: ['a', 'b'],
  LessEqual: ['a', 'b'],
  LogicalAnd: ['a', 'b'],
  LogicalOr: ['a', 'b'],
  LogicalNot: ['x'],
  All: ['x'],
  Any: ['x'],
};

/**
 * Registers the (exactly zero) gradient of every comparison/logical kernel that has none, so masks built
 * from variable-dependent values can sit on a differentiated path. Idempotent; never overrides an
 * existing gradient.
 */
export function registerBooleanGradients(): void {
  for (const [kernelName, inputs] of Object.entries(BOOLEAN_KERNELS)) {
    if (tf.getGradient(kernelName) != null) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: [...inputs],
      gradFunc: (_dy, saved) => {
        const grads: Record<string, () => tf.Tensor> = {};
        for (const [i, name] of inputs.entries()) {
          const shape = saved[i]?.shape ?? [];
          grads[name] = () => tf.zeros(shape);
        }
        return grads;
      },
    });
  }
}
