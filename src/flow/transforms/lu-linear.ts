import type { Rng } from '../../core/rng.js';
import { InvalidOptionError, SerializationError } from '../../errors.js';
import { encodeTensor } from '../tensor-codec.js';
import * as tf from '../tf.js';
import type { Bijector, ForwardResult, ModuleSpec } from '../types.js';
import {
  assignAndDispose,
  checkDim,
  checkInput,
  configDim,
  constantLogDet,
  parseSpec,
  readFiniteWeight,
  reviveWith,
  trainableVariable,
} from './elementwise-common.js';
import { invertPLU } from './lu-inverse.js';
import { checkPermutation, permutationMatrix } from './permutation.js';

/** Default standard deviation of the random initialisation of `LULinear` when an `rng` is given. */
export const LU_DEFAULT_INIT_SCALE = 0.01;

/** Options of `LULinear`. */
export interface LULinearOptions {
  /** Number of data columns. */
  readonly dim: number;
  /** The fixed row permutation Π of W = Π·L·U (row i of Π·M is row perm[i] of M). Default: identity. */
  readonly perm?: readonly number[];
  /**
   * If given (and `initScale` > 0), the strictly triangular parts and the log-diagonal start as
   * N(0, initScale²) draws from it (near, but not exactly, the identity). Otherwise the layer starts as
   * exactly the identity.
   */
  readonly rng?: Rng;
  /** Standard deviation of that random initialisation. Default `LU_DEFAULT_INIT_SCALE`. */
  readonly initScale?: number;
}

const WEIGHTS = ['lower', 'upper', 'logDiag', 'bias'] as const;

/**
 * Invertible linear layer (Glow's "invertible 1×1 convolution" in LU form): z = x·Wᵀ + bias with
 * W = Π·L·U, Π a fixed permutation, L unit-lower-triangular (learnable strictly lower part), and
 * U upper-triangular with learnable strictly upper part and diagonal exp(logDiag). The exp keeps the
 * diagonal positive, so W is always invertible and log|det W| = Σ logDiag exactly (per row).
 *
 * `inverse` solves with the explicit W⁻¹ = U⁻¹·L⁻¹·Πᵀ, computed in float64 from the current weights on
 * every call (it reads the weights back synchronously; it is meant for sampling, not for training).
 *
 * Kind `lu-linear`; config `{dim, perm}`; weights `lower`, `upper` (`[dim, dim]`, only the strictly
 * lower/upper parts are used), `logDiag`, `bias` (`[dim]`).
 */
export class LULinear implements Bijector {
  static readonly kind = 'lu-linear';
  readonly kind = LULinear.kind;
  readonly dim: number;
  /** Row permutation of W = Π·L·U. */
  readonly perm: readonly number[];
  private readonly lower: tf.Variable;
  private readonly upper: tf.Variable;
  private readonly logDiag: tf.Variable;
  private readonly bias: tf.Variable;
  /** Constants: Πᵀ, the strictly-lower and strictly-upper 0/1 masks, and the identity. */
  private readonly constants: { piT: tf.Tensor2D; maskL: tf.Tensor2D; maskU: tf.Tensor2D; eye: tf.Tensor2D };

  constructor(options: LULinearOptions) {
    const d = checkDim(options?.dim, LULinear.kind);
    this.dim = d;
    this.perm = Object.freeze(
      options.perm === undefined
        ? Array.from({ length: d }, (_, i) => i)
        : checkPermutation(options.perm, LULinear.kind, d),
    );
    const scale = options.initScale ?? LU_DEFAULT_INIT_SCALE;
    if (!(Number.isFinite(scale) && scale >= 0)) {
      throw new InvalidOptionError(
        `lu-linear: initScale must be a finite number ≥ 0 (e.g. 0.01), got ${scale}`,
      );
    }
    const init = initialValues(d, options.rng, scale);
    const prefix = (w: string): string => `${LULinear.kind}/${w}`;
    this.lower = trainableVariable(tf.tensor2d(init.lower, [d, d]), prefix('lower'));
    this.upper = trainableVariable(tf.tensor2d(init.upper, [d, d]), prefix('upper'));
    this.logDiag = trainableVariable(tf.tensor1d(init.logDiag), prefix('logDiag'));
    this.bias = trainableVariable(tf.zeros([d]), prefix('bias'));
    this.constants = buildConstants(this.perm);
  }

  forward(x: tf.Tensor2D): ForwardResult {
    checkInput(x, this.dim, LULinear.kind);
    const [z, logDet] = tf.tidy(() => [
      tf.add(tf.matMul(x, this.weight(), false, true), this.bias),
      constantLogDet(x.shape[0], tf.sum(this.logDiag)),
    ]);
    return { z: z as tf.Tensor2D, logDet: logDet as tf.Tensor1D };
  }

  inverse(z: tf.Tensor2D): tf.Tensor2D {
    checkInput(z, this.dim, LULinear.kind);
    const d = this.dim;
    const flat = tf.tidy(() =>
      tf.concat([tf.reshape(this.lower, [-1]), tf.reshape(this.upper, [-1]), tf.exp(this.logDiag)]),
    );
    const v = flat.dataSync() as Float32Array;
    flat.dispose();
    const wInv = invertPLU(
      this.perm,
      v.subarray(0, d * d),
      v.subarray(d * d, 2 * d * d),
      v.subarray(2 * d * d),
    );
    return tf.tidy(() => {
      const a = tf.tensor2d(Float32Array.from(wInv), [d, d]);
      return tf.matMul(tf.sub(z, this.bias), a, false, true);
    });
  }

  trainableVariables(): tf.Variable[] {
    return [this.lower, this.upper, this.logDiag, this.bias];
  }

  toJSON(): ModuleSpec {
    return {
      kind: this.kind,
      config: { dim: this.dim, perm: [...this.perm] },
      weights: {
        lower: encodeTensor(this.lower),
        upper: encodeTensor(this.upper),
        logDiag: encodeTensor(this.logDiag),
        bias: encodeTensor(this.bias),
      },
    };
  }

  /** Rebuilds from `toJSON` output; throws `SerializationError` on a wrong kind, config or weight. */
  static fromJSON(spec: ModuleSpec): LULinear {
    const { config, weights } = parseSpec(spec, LULinear.kind);
    const dim = configDim(config, LULinear.kind);
    if (!Array.isArray(config.perm)) throw new SerializationError('lu-linear: config.perm must be an array');
    const perm = config.perm as number[];
    const layer = reviveWith(LULinear.kind, () => new LULinear({ dim, perm }));
    const loaded: tf.Tensor[] = [];
    try {
      for (const w of WEIGHTS) {
        loaded.push(readFiniteWeight(weights, w, w === 'lower' || w === 'upper' ? [dim, dim] : [dim]));
      }
    } catch (err) {
      for (const t of loaded) t.dispose();
      layer.dispose();
      throw err;
    }
    layer.trainableVariables().forEach((v, i) => {
      assignAndDispose(v, loaded[i]!);
    });
    return layer;
  }

  dispose(): void {
    for (const v of this.trainableVariables()) v.dispose();
    for (const c of Object.values(this.constants)) c.dispose();
  }

  /** W = Π·L·U, differentiable in the variables. */
  private weight(): tf.Tensor2D {
    const { piT, maskL, maskU, eye } = this.constants;
    const l = tf.add(eye, tf.mul(this.lower, maskL));
    const u = tf.add(tf.mul(this.upper, maskU), tf.mul(eye, tf.exp(this.logDiag)));
    return tf.matMul(piT, tf.matMul(l, u), true, false);
  }
}

function buildConstants(perm: readonly number[]): {
  piT: tf.Tensor2D;
  maskL: tf.Tensor2D;
  maskU: tf.Tensor2D;
  eye: tf.Tensor2D;
} {
  const d = perm.length;
  const lowerMask = new Float32Array(d * d);
  const upperMask = new Float32Array(d * d);
  const eye = new Float32Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      if (j < i) lowerMask[i * d + j] = 1;
      if (j > i) upperMask[i * d + j] = 1;
    }
    eye[i * d + i] = 1;
  }
  // keep: the constants must survive a tf.tidy the layer happens to be built in.
  return {
    // permutationMatrix(perm)[perm[j]][j] = 1, i.e. it is Πᵀ for Π[i][perm[i]] = 1.
    piT: tf.keep(permutationMatrix(perm)),
    maskL: tf.keep(tf.tensor2d(lowerMask, [d, d])),
    maskU: tf.keep(tf.tensor2d(upperMask, [d, d])),
    eye: tf.keep(tf.tensor2d(eye, [d, d])),
  };
}

function initialValues(
  d: number,
  rng: Rng | undefined,
  scale: number,
): { lower: Float32Array; upper: Float32Array; logDiag: Float32Array } {
  const lower = new Float32Array(d * d);
  const upper = new Float32Array(d * d);
  const logDiag = new Float32Array(d);
  if (rng === undefined || scale === 0) return { lower, upper, logDiag };
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      if (j < i) lower[i * d + j] = scale * rng.normal();
      if (j > i) upper[i * d + j] = scale * rng.normal();
    }
    logDiag[i] = scale * rng.normal();
  }
  return { lower, upper, logDiag };
}
