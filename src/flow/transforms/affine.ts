import { encodeTensor } from '../tensor-codec.js';
import * as tf from '../tf.js';
import type { Bijector, ForwardResult, ModuleSpec, SerializedTensor } from '../types.js';
import {
  assignAndDispose,
  checkDim,
  checkInput,
  configDim,
  constantLogDet,
  parseSpec,
  readFiniteWeight,
  trainableVariable,
} from './elementwise-common.js';

/**
 * Shared core of the per-dimension affine transforms (`ElementwiseAffine`, `ActNorm`):
 * z = (x − shift) · exp(−logScale), log|det| = −Σ logScale per row. Parameterising the scale by its log
 * keeps it positive and makes the log-determinant exact and linear in the parameters.
 */
export abstract class PerDimensionAffine implements Bijector {
  abstract readonly kind: string;
  readonly dim: number;
  /** `[dim]`, in data units. */
  protected readonly shift: tf.Variable;
  /** `[dim]`, natural log of the data-units scale that is divided out. */
  protected readonly logScale: tf.Variable;
  private readonly label: string;

  protected constructor(dim: unknown, label: string) {
    this.dim = checkDim(dim, label);
    this.label = label;
    this.shift = trainableVariable(tf.zeros([this.dim]), `${label}/shift`);
    this.logScale = trainableVariable(tf.zeros([this.dim]), `${label}/logScale`);
  }

  forward(x: tf.Tensor2D): ForwardResult {
    checkInput(x, this.dim, this.label);
    const [z, logDet] = tf.tidy(() => [
      tf.mul(tf.sub(x, this.shift), tf.exp(tf.neg(this.logScale))) as tf.Tensor2D,
      constantLogDet(x.shape[0], tf.neg(tf.sum(this.logScale))),
    ]);
    return { z: z as tf.Tensor2D, logDet: logDet as tf.Tensor1D };
  }

  inverse(z: tf.Tensor2D): tf.Tensor2D {
    checkInput(z, this.dim, this.label);
    return tf.tidy(() => tf.add(tf.mul(z, tf.exp(this.logScale)), this.shift) as tf.Tensor2D);
  }

  trainableVariables(): tf.Variable[] {
    return [this.shift, this.logScale];
  }

  abstract toJSON(): ModuleSpec;

  dispose(): void {
    this.shift.dispose();
    this.logScale.dispose();
  }

  /** The weights of the spec, by name. */
  protected encodeWeights(): Record<string, SerializedTensor> {
    return { shift: encodeTensor(this.shift), logScale: encodeTensor(this.logScale) };
  }

  /** Validates and loads `shift` and `logScale` (SerializationError on a missing, misshaped or NaN weight). */
  protected loadWeights(weights: Readonly<Record<string, SerializedTensor>>): void {
    const shift = readFiniteWeight(weights, 'shift', [this.dim]);
    let logScale: tf.Tensor;
    try {
      logScale = readFiniteWeight(weights, 'logScale', [this.dim]);
    } catch (err) {
      shift.dispose();
      throw err;
    }
    assignAndDispose(this.shift, shift);
    assignAndDispose(this.logScale, logScale);
  }
}

/** Options of `ElementwiseAffine`. */
export interface ElementwiseAffineOptions {
  /** Number of data columns. */
  readonly dim: number;
}

/**
 * Learnable per-dimension shift and scale, z = (x − shift) · exp(−logScale). Starts as the identity.
 * Kind `affine`; config `{dim}`; weights `shift`, `logScale` (both `[dim]`).
 */
export class ElementwiseAffine extends PerDimensionAffine {
  static readonly kind = 'affine';
  readonly kind = ElementwiseAffine.kind;

  constructor(options: ElementwiseAffineOptions) {
    super(options?.dim, ElementwiseAffine.kind);
  }

  toJSON(): ModuleSpec {
    return { kind: this.kind, config: { dim: this.dim }, weights: this.encodeWeights() };
  }

  /** Rebuilds from `toJSON` output; throws `SerializationError` on a wrong kind, config or weight. */
  static fromJSON(spec: ModuleSpec): ElementwiseAffine {
    const { config, weights } = parseSpec(spec, ElementwiseAffine.kind);
    const affine = new ElementwiseAffine({ dim: configDim(config, ElementwiseAffine.kind) });
    try {
      affine.loadWeights(weights);
    } catch (err) {
      affine.dispose();
      throw err;
    }
    return affine;
  }
}
