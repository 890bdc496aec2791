/**
 * The single entry point to TensorFlow.js inside flowsentinel. Import tfjs as
 * `import * as tf from './tf.js'` (or the relative path to this file), never from the packages directly.
 *
 * Why: the Node (CommonJS) build of `@tensorflow/tfjs-core` registers no gradient functions, and its
 * ESM build cannot be loaded by Node's ESM resolver (extension-less imports). The `@tensorflow/tfjs`
 * bundle registers all gradients into tfjs-core's global registry, so it is imported here once for that
 * side effect. tfjs also lacks gradients for comparison/logical kernels (exactly zero almost everywhere),
 * which masks on differentiated paths need; `registerBooleanGradients` adds them. The op API is tfjs-core's.
 */
import '@tensorflow/tfjs';
import { registerBooleanGradients } from './bool-grads.js';

registerBooleanGradients();

export * from '@tensorflow/tfjs-core';
