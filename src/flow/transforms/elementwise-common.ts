/**
 * Helpers shared by the elementwise and linear transforms (affine, actnorm, sigmoid/logit, permutation,
 * LU-linear): option checks, spec parsing and weight loading with typed errors.
 */
import { InvalidOptionError, SerializationError } from '../../errors.js';
import { readWeight } from '../tensor-codec.js';
import * as tf from '../tf.js';
import type { SerializedTensor } from '../types.js';

let variableCounter = 0;

/** A process-unique tfjs variable name `<prefix>_<n>` (tfjs rejects a name registered twice). */
export function uniqueVariableName(prefix: string): string {
  variableCounter += 1;
  return `${prefix}_${variableCounter}`;
}

/** A trainable variable initialised from `init` (which is disposed), named `uniqueVariableName(prefix)`. */
export function trainableVariable(init: tf.Tensor, prefix: string): tf.Variable {
  const v = tf.variable(init, true, uniqueVariableName(prefix));
  init.dispose();
  return v;
}

/** Returns `dim` if it is a positive integer, else throws `InvalidOptionError`. */
export function checkDim(dim: unknown, kind: string): number {
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1) {
    throw new InvalidOptionError(
      `${kind}: dim must be a positive integer (the number of data columns), got ${String(dim)}`,
      { context: { kind, dim } },
    );
  }
  return dim;
}

/** Throws `InvalidOptionError` unless `x` is `[batch, dim]`. */
export function checkInput(x: tf.Tensor, dim: number, kind: string): void {
  if (x.rank !== 2 || x.shape[1] !== dim) {
    throw new InvalidOptionError(
      `${kind}: expected input of shape [batch, ${dim}], got [${x.shape.join(', ')}]`,
      {
        context: { kind, shape: x.shape },
      },
    );
  }
}

/** The parts of a `ModuleSpec` after structural validation. */
export interface ParsedSpec {
  readonly config: Record<string, unknown>;
  readonly weights: Record<string, SerializedTensor>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Checks that `spec` is a module spec of `kind` with object `config` and `weights`; `SerializationError` if not. */
export function parseSpec(spec: unknown, kind: string): ParsedSpec {
  if (!isRecord(spec)) throw new SerializationError(`${kind}: spec must be an object, got ${typeof spec}`);
  if (spec.kind !== kind) {
    throw new SerializationError(`${kind}: spec has kind "${String(spec.kind)}", expected "${kind}"`, {
      context: { kind: spec.kind, expected: kind },
    });
  }
  if (!isRecord(spec.config)) throw new SerializationError(`${kind}: spec.config must be an object`);
  const weights = spec.weights ?? {};
  if (!isRecord(weights)) throw new SerializationError(`${kind}: spec.weights must be an object`);
  return { config: spec.config, weights: weights as Record<string, SerializedTensor> };
}

/** Reads `config.dim`, throwing `SerializationError` unless it is a positive integer. */
export function configDim(config: Record<string, unknown>, kind: string): number {
  const dim = config.dim;
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1) {
    throw new SerializationError(`${kind}: config.dim must be a positive integer, got ${String(dim)}`, {
      context: { kind, dim },
    });
  }
  return dim;
}

/** `readWeight` plus a check that every value is finite (a NaN weight means a corrupt or diverged model). */
export function readFiniteWeight(
  weights: Readonly<Record<string, SerializedTensor>>,
  name: string,
  shape: readonly number[],
): tf.Tensor {
  let t: tf.Tensor;
  try {
    t = readWeight(weights, name, shape);
  } catch (err) {
    if (err instanceof SerializationError) throw err;
    throw new SerializationError(`weight "${name}" could not be decoded`, { cause: err, context: { name } });
  }
  if (!(t.dataSync() as Float32Array).every(Number.isFinite)) {
    t.dispose();
    throw new SerializationError(`weight "${name}" contains NaN or Infinity`, { context: { name } });
  }
  return t;
}

/** Runs a constructor on deserialized options, turning its `InvalidOptionError` into `SerializationError`. */
export function reviveWith<T>(kind: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof InvalidOptionError) {
      throw new SerializationError(`${kind}: invalid config: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** Copies `value` into `variable` and disposes `value`. */
export function assignAndDispose(variable: tf.Variable, value: tf.Tensor): void {
  variable.assign(value);
  value.dispose();
}

/** A per-row log-determinant `[n]` that is the same scalar for every row; differentiable in `total`. */
export function constantLogDet(n: number, total: tf.Tensor): tf.Tensor1D {
  return tf.mul(tf.ones([n]), total) as tf.Tensor1D;
}
