/**
 * Test-only flow pieces, independent of src/flow/transforms and src/flow/priors: an elementwise affine
 * bijector with learnable shift/log-scale and a Gaussian prior with a learnable mean.
 */

import { normalArray, type Rng } from '../../src/core/rng.js';
import { SerializationError } from '../../src/errors.js';
import { NormalizingFlow } from '../../src/flow/normalizing-flow.js';
import { encodeTensor, readWeight } from '../../src/flow/tensor-codec.js';
import * as tf from '../../src/flow/tf.js';
import type { Bijector, ForwardResult, ModuleSpec, Prior } from '../../src/flow/types.js';

function dimOf(spec: ModuleSpec, kind: string): number {
  if (spec.kind !== kind) throw new SerializationError(`expected kind ${kind}, got ${spec.kind}`);
  const dim = spec.config.dim;
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1) {
    throw new SerializationError(`${kind}: config.dim must be a positive integer`);
  }
  return dim;
}

/** z = x ⊙ exp(logScale) + shift, with 1-D variables; `poison` makes z NaN (to test skipped steps). */
export class TinyAffine implements Bijector {
  static readonly kind = 'test.tinyAffine';
  readonly kind = TinyAffine.kind;
  readonly dim: number;
  readonly shift: tf.Variable;
  readonly logScale: tf.Variable;
  /** When true, `forward` outputs NaN, so the flow's loss is floored and its gradients are NaN. */
  poison = false;
  /** How often `initialize` ran. */
  initCalls = 0;

  constructor(dim: number, shift?: tf.Tensor, logScale?: tf.Tensor) {
    this.dim = dim;
    this.shift = tf.tidy(() => tf.variable(shift ?? tf.zeros([dim]), true));
    this.logScale = tf.tidy(() => tf.variable(logScale ?? tf.zeros([dim]), true));
  }

  forward(x: tf.Tensor2D): ForwardResult {
    return tf.tidy(() => {
      let z = tf.add(tf.mul(x, tf.exp(this.logScale)), this.shift) as tf.Tensor2D;
      if (this.poison) z = tf.mul(z, Number.NaN) as tf.Tensor2D;
      const logDet = tf.mul(tf.ones([x.shape[0]]), tf.sum(this.logScale)) as tf.Tensor1D;
      return { z, logDet };
    });
  }

  inverse(z: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.mul(tf.sub(z, this.shift), tf.exp(tf.neg(this.logScale))) as tf.Tensor2D);
  }

  /** Standardises the batch: per-column z = (x − mean) / std. */
  initialize(x: tf.Tensor2D): void {
    this.initCalls++;
    tf.tidy(() => {
      const { mean, variance } = tf.moments(x, 0);
      const logScale = tf.neg(tf.mul(0.5, tf.log(tf.add(variance, 1e-6))));
      this.logScale.assign(logScale);
      this.shift.assign(tf.neg(tf.mul(mean, tf.exp(logScale))));
    });
  }

  trainableVariables(): tf.Variable[] {
    return [this.shift, this.logScale];
  }

  toJSON(): ModuleSpec {
    return {
      kind: this.kind,
      config: { dim: this.dim },
      weights: { shift: encodeTensor(this.shift), logScale: encodeTensor(this.logScale) },
    };
  }

  static fromJSON(spec: ModuleSpec): TinyAffine {
    const dim = dimOf(spec, TinyAffine.kind);
    const shift = readWeight(spec.weights, 'shift', [dim]);
    const logScale = readWeight(spec.weights, 'logScale', [dim]);
    const b = new TinyAffine(dim, shift, logScale);
    shift.dispose();
    logScale.dispose();
    return b;
  }

  dispose(): void {
    this.shift.dispose();
    this.logScale.dispose();
  }
}

/** N(loc, I) with a learnable `[1, dim]` mean (2-D, so weight decay applies to it). */
export class TinyGaussian implements Prior {
  static readonly kind = 'test.tinyGaussian';
  readonly kind = TinyGaussian.kind;
  readonly dim: number;
  readonly loc: tf.Variable;

  constructor(dim: number, loc?: tf.Tensor) {
    this.dim = dim;
    this.loc = tf.tidy(() => tf.variable(loc ?? tf.zeros([1, dim]), true));
  }

  logProb(z: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const sq = tf.sum(tf.square(tf.sub(z, this.loc)), 1);
      return tf.sub(tf.mul(-0.5, sq), 0.5 * this.dim * Math.log(2 * Math.PI)) as tf.Tensor1D;
    });
  }

  sample(n: number, rng: Rng): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.tensor2d(normalArray(rng, n * this.dim), [n, this.dim]), this.loc));
  }

  trainableVariables(): tf.Variable[] {
    return [this.loc];
  }

  toJSON(): ModuleSpec {
    return { kind: this.kind, config: { dim: this.dim }, weights: { loc: encodeTensor(this.loc) } };
  }

  static fromJSON(spec: ModuleSpec): TinyGaussian {
    const dim = dimOf(spec, TinyGaussian.kind);
    const loc = readWeight(spec.weights, 'loc', [1, dim]);
    const p = new TinyGaussian(dim, loc);
    loc.dispose();
    return p;
  }

  dispose(): void {
    this.loc.dispose();
  }
}

/** Reviver for `NormalizingFlow.fromJSON` over the tiny modules. */
export function reviveTiny(spec: ModuleSpec): Bijector | Prior {
  if (spec.kind === TinyAffine.kind) return TinyAffine.fromJSON(spec);
  if (spec.kind === TinyGaussian.kind) return TinyGaussian.fromJSON(spec);
  throw new SerializationError(`unknown test kind ${spec.kind}`);
}

/** A flow of `layers` TinyAffine transforms over a TinyGaussian prior. */
export function makeTinyFlow(dim: number, layers = 2): NormalizingFlow {
  const flows = Array.from({ length: layers }, () => new TinyAffine(dim));
  return new NormalizingFlow(new TinyGaussian(dim), flows);
}

/** Rebuilds a flow from JSON (marked initialised) with the tiny reviver. */
export function tinyFlowFromJSON(spec: unknown): NormalizingFlow {
  return NormalizingFlow.fromJSON(spec, reviveTiny);
}
