import { SerializationError } from '../errors.js';
import * as tf from './tf.js';
import type { SerializedTensor } from './types.js';

/** Encodes a float32 tensor exactly: shape plus base64 little-endian bytes. Reads the tensor synchronously. */
export function encodeTensor(t: tf.Tensor): SerializedTensor {
  const values = t.dataSync() as Float32Array;
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return { shape: [...t.shape], dtype: 'float32', data: bytes.toString('base64') };
}

/** Decodes `encodeTensor` output back to a Float32Array, checking that the byte count matches the shape. */
export function decodeValues(s: SerializedTensor, name: string): Float32Array {
  const size = s.shape.reduce((a, b) => a * b, 1);
  const bytes = Buffer.from(s.data, 'base64');
  if (bytes.byteLength !== size * 4) {
    throw new SerializationError(
      `weight "${name}" has ${bytes.byteLength} bytes but shape [${s.shape.join(', ')}] needs ${size * 4}`,
      { context: { name, shape: s.shape } },
    );
  }
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer, 0, size);
}

/**
 * Reads weight `name` from a spec's weights, validating it exists and has `expectedShape`.
 * Returns a new tensor the caller owns.
 */
export function readWeight(
  weights: Readonly<Record<string, SerializedTensor>>,
  name: string,
  expectedShape: readonly number[],
): tf.Tensor {
  const w = weights[name];
  if (w === undefined) throw new SerializationError(`weight "${name}" is missing`, { context: { name } });
  if (w.shape.length !== expectedShape.length || w.shape.some((d, i) => d !== expectedShape[i])) {
    throw new SerializationError(
      `weight "${name}" has shape [${w.shape.join(', ')}], expected [${expectedShape.join(', ')}]`,
      { context: { name, shape: w.shape, expectedShape } },
    );
  }
  return tf.tensor(decodeValues(w, name), [...expectedShape], 'float32');
}
