import type { Rng } from '../../core/rng.js';
import { InvalidOptionError, SerializationError } from '../../errors.js';
import * as tf from '../tf.js';
import type { Bijector, ForwardResult, ModuleSpec } from '../types.js';
import { checkDim, checkInput, parseSpec, reviveWith } from './elementwise-common.js';

/**
 * Returns `perm` as a plain array if it is a permutation of 0..n−1 (n ≥ 1, and n = `dim` when given);
 * throws `InvalidOptionError` otherwise.
 */
export function checkPermutation(perm: unknown, label: string, dim?: number): number[] {
  if (!Array.isArray(perm) || perm.length < 1) {
    throw new InvalidOptionError(`${label}: perm must be a non-empty array of column indices`, {
      context: { perm },
    });
  }
  if (dim !== undefined && perm.length !== dim) {
    throw new InvalidOptionError(
      `${label}: perm has ${perm.length} entries but dim is ${dim}; they must match`,
      {
        context: { length: perm.length, dim },
      },
    );
  }
  const seen = new Array<boolean>(perm.length).fill(false);
  for (const p of perm as unknown[]) {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p >= perm.length || seen[p]) {
      throw new InvalidOptionError(
        `${label}: perm must contain each of 0..${perm.length - 1} exactly once, got [${perm.join(', ')}]`,
        { context: { perm } },
      );
    }
    seen[p] = true;
  }
  return [...(perm as number[])];
}

/**
 * The 0/1 matrix M (`[d, d]`, row-major) with M[perm[j]][j] = 1, so that (x·M)[:, j] = x[:, perm[j]].
 * A matmul is used instead of `tf.gather` because gather has no gradient on the wasm backend.
 */
export function permutationMatrix(perm: readonly number[]): tf.Tensor2D {
  const d = perm.length;
  const m = new Float32Array(d * d);
  for (const [j, p] of perm.entries()) m[p * d + j] = 1;
  return tf.tensor2d(m, [d, d]);
}

/** Options of `Permutation`. */
export interface PermutationOptions {
  /** Output column j is input column perm[j]; a permutation of 0..dim−1. */
  readonly perm: readonly number[];
}

/**
 * Fixed column permutation z[:, j] = x[:, perm[j]], log|det| = 0. Used between coupling layers so every
 * column gets transformed. Implemented as a matmul with a constant 0/1 matrix: exact for finite inputs
 * and differentiable on every backend; a NaN or ±Infinity entry spreads NaN over its row.
 * Kind `permutation`; config `{perm}`; no weights.
 */
export class Permutation implements Bijector {
  static readonly kind = 'permutation';
  readonly kind = Permutation.kind;
  readonly dim: number;
  /** Output column j is input column perm[j]. */
  readonly perm: readonly number[];
  private readonly matrix: tf.Tensor2D;

  constructor(options: PermutationOptions) {
    this.perm = Object.freeze(checkPermutation(options?.perm, Permutation.kind));
    this.dim = this.perm.length;
    // keep: the constant must survive a tf.tidy the module happens to be built in.
    this.matrix = tf.keep(permutationMatrix(this.perm));
  }

  /** Reverses the column order (dim−1, …, 0). */
  static reverse(dim: number): Permutation {
    const d = checkDim(dim, Permutation.kind);
    return new Permutation({ perm: Array.from({ length: d }, (_, i) => d - 1 - i) });
  }

  /** A uniformly random permutation (Fisher–Yates) drawn from the seeded `rng`. */
  static random(dim: number, rng: Rng): Permutation {
    return new Permutation({ perm: randomPermutation(checkDim(dim, Permutation.kind), rng) });
  }

  forward(x: tf.Tensor2D): ForwardResult {
    checkInput(x, this.dim, Permutation.kind);
    return { z: tf.matMul(x, this.matrix), logDet: tf.zeros([x.shape[0]]) };
  }

  inverse(z: tf.Tensor2D): tf.Tensor2D {
    checkInput(z, this.dim, Permutation.kind);
    return tf.matMul(z, this.matrix, false, true);
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  toJSON(): ModuleSpec {
    return { kind: this.kind, config: { perm: [...this.perm] }, weights: {} };
  }

  /** Rebuilds from `toJSON` output; throws `SerializationError` on a wrong kind or an invalid `perm`. */
  static fromJSON(spec: ModuleSpec): Permutation {
    const { config } = parseSpec(spec, Permutation.kind);
    if (!Array.isArray(config.perm))
      throw new SerializationError('permutation: config.perm must be an array');
    const perm = config.perm as number[];
    return reviveWith(Permutation.kind, () => new Permutation({ perm }));
  }

  dispose(): void {
    this.matrix.dispose();
  }
}

/** A uniformly random permutation of 0..dim−1 drawn from `rng` (Fisher–Yates). */
export function randomPermutation(dim: number, rng: Rng): number[] {
  const perm = Array.from({ length: dim }, (_, i) => i);
  for (let i = dim - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(rng.uniform() * (i + 1)));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return perm;
}
