import type { Rng } from '../../core/rng.js';
import { InvalidOptionError } from '../../errors.js';
import { encodeTensor } from '../tensor-codec.js';
import * as tf from '../tf.js';
import {
  checkDim,
  checkInput,
  configDim,
  parseSpec,
  readFiniteWeight,
  trainableVariable,
} from '../transforms/elementwise-common.js';
import type { ModuleSpec, Prior } from '../types.js';
import { checkSampleSize, HALF_LOG_2PI, normalNoise, rowSum } from './prior-common.js';

/** Options of `DiagNormal`. */
export interface DiagNormalOptions {
  /** Number of latent dimensions. */
  readonly dim: number;
  /** Initial mean: one number for every dimension, or one per dimension. Default 0. */
  readonly loc?: number | readonly number[];
  /** Initial natural-log standard deviation, scalar or per dimension. Default 0 (σ = 1). */
  readonly logScale?: number | readonly number[];
}

function initialVector(value: number | readonly number[] | undefined, dim: number, name: string): number[] {
  const v =
    typeof value === 'number' || value === undefined ? new Array<number>(dim).fill(value ?? 0) : [...value];
  if (v.length !== dim || !v.every(Number.isFinite)) {
    throw new InvalidOptionError(
      `diag-normal: ${name} must be a finite number or an array of ${dim} finite numbers, got ${String(value)}`,
      { context: { name, dim } },
    );
  }
  return v;
}

/**
 * N(loc, diag(exp(logScale))²) with learnable `loc` and `logScale` (both `[dim]`):
 * log p(z) = Σ_j −½((z_j − loc_j)/σ_j)² − log σ_j − ½·log 2π.
 * Kind `diag-normal`; config `{dim}`; weights `loc`, `logScale`.
 */
export class DiagNormal implements Prior {
  static readonly kind = 'diag-normal';
  readonly kind = DiagNormal.kind;
  readonly dim: number;
  private readonly loc: tf.Variable;
  private readonly logScale: tf.Variable;

  constructor(options: DiagNormalOptions) {
    this.dim = checkDim(options?.dim, DiagNormal.kind);
    const loc = initialVector(options.loc, this.dim, 'loc');
    const logScale = initialVector(options.logScale, this.dim, 'logScale');
    this.loc = trainableVariable(tf.tensor1d(loc), 'diag-normal/loc');
    this.logScale = trainableVariable(tf.tensor1d(logScale), 'diag-normal/logScale');
  }

  logProb(z: tf.Tensor2D): tf.Tensor1D {
    checkInput(z, this.dim, this.kind);
    return tf.tidy(() => {
      const u = tf.mul(tf.sub(z, this.loc), tf.exp(tf.neg(this.logScale)));
      const perRow = tf.mul(-0.5, rowSum(tf.square(u)));
      return tf.sub(perRow, tf.add(tf.sum(this.logScale), this.dim * HALF_LOG_2PI)) as tf.Tensor1D;
    });
  }

  sample(n: number, rng: Rng): tf.Tensor2D {
    checkSampleSize(n, this.kind);
    const eps = normalNoise(n, this.dim, rng);
    const x = tf.tidy(() => tf.add(this.loc, tf.mul(eps, tf.exp(this.logScale))) as tf.Tensor2D);
    eps.dispose();
    return x;
  }

  trainableVariables(): tf.Variable[] {
    return [this.loc, this.logScale];
  }

  toJSON(): ModuleSpec {
    return {
      kind: this.kind,
      config: { dim: this.dim },
      weights: { loc: encodeTensor(this.loc), logScale: encodeTensor(this.logScale) },
    };
  }

  /** Rebuilds from `toJSON` output; throws `SerializationError` on a wrong kind, config or weight. */
  static fromJSON(spec: ModuleSpec): DiagNormal {
    const { config, weights } = parseSpec(spec, DiagNormal.kind);
    const dim = configDim(config, DiagNormal.kind);
    const loc = readFiniteWeight(weights, 'loc', [dim]);
    const logScale = readFiniteWeight(weights, 'logScale', [dim]);
    const prior = new DiagNormal({ dim });
    prior.loc.assign(loc);
    prior.logScale.assign(logScale);
    loc.dispose();
    logScale.dispose();
    return prior;
  }

  dispose(): void {
    this.loc.dispose();
    this.logScale.dispose();
  }
}
