import type { Rng } from '../core/rng.js';
import { InvalidOptionError, SerializationError } from '../errors.js';
import * as tf from './tf.js';
import type { Bijector, ModuleSpec, Prior } from './types.js';

/** Log-probability assigned to rows that are non-finite or beyond `maxAbsInput` (nats). */
export const LOG_PROB_FLOOR = -1e10;

/** Per-row outputs of `NormalizingFlow.logProb`; the caller owns (and disposes) every tensor. */
export interface LogProbResult {
  /** log p(x) per row, in nats; finite for every input row (see `LOG_PROB_FLOOR`). */
  readonly logProb: tf.Tensor1D;
  /** log p_prior(f⁻¹(x)) per row. */
  readonly priorLogProb: tf.Tensor1D;
  /** Σ log|det J| over the transforms, per row. */
  readonly sumLogDet: tf.Tensor1D;
  /** The output of each transform, data → latent; the last one is the latent `z`. */
  readonly zs: tf.Tensor2D[];
}

/** Options of `NormalizingFlow`. */
export interface NormalizingFlowOptions {
  /**
   * Rows with any |x| above this (after whatever standardisation the caller applies) are not pushed
   * through the transforms; they get `LOG_PROB_FLOOR`. Default 1e6.
   */
  readonly maxAbsInput?: number;
}

/** JSON form of a whole flow. */
export interface FlowSpec {
  readonly format: 'flowsentinel.flow';
  readonly version: 1;
  readonly dim: number;
  readonly maxAbsInput: number;
  readonly prior: ModuleSpec;
  readonly flows: ModuleSpec[];
}

/** Rebuilds a module from its spec; see `registry.ts`. */
export type ModuleReviver = (spec: ModuleSpec) => Bijector | Prior;

/**
 * A normalizing flow: a prior plus an ordered composition of invertible transforms.
 *
 * Direction convention: `flows[0]` is applied first to **data**. Scoring and training run
 * data → latent: z = f_K(… f_1(x)), and
 *   log p(x) = log p_prior(z) + Σ_k log|det ∂f_k/∂(input_k)|.
 * Sampling runs latent → data through the inverses in reverse order.
 *
 * Robustness: `logProb` never returns NaN or ±Infinity. Rows containing NaN/±Infinity or a value beyond
 * `maxAbsInput` are replaced by zeros before the transforms (so they cannot reach gradients) and get
 * `LOG_PROB_FLOOR`; a finite row whose result overflows is clamped to `LOG_PROB_FLOOR` as well.
 */
export class NormalizingFlow {
  readonly dim: number;
  readonly prior: Prior;
  readonly flows: readonly Bijector[];
  readonly maxAbsInput: number;
  private initialized = false;

  constructor(prior: Prior, flows: readonly Bijector[], options: NormalizingFlowOptions = {}) {
    const maxAbs = options.maxAbsInput ?? 1e6;
    if (!(maxAbs > 0)) throw new InvalidOptionError(`maxAbsInput must be > 0, got ${maxAbs}`);
    for (const [i, f] of flows.entries()) {
      if (f.dim !== prior.dim) {
        throw new InvalidOptionError(
          `transform ${i} (${f.kind}) has dim ${f.dim} but the prior has dim ${prior.dim}; all must match`,
        );
      }
    }
    this.dim = prior.dim;
    this.prior = prior;
    this.flows = [...flows];
    this.maxAbsInput = maxAbs;
  }

  /** log p(x) per row and its intermediates, data → latent. `x` is `[batch, dim]`. */
  logProb(x: tf.Tensor2D): LogProbResult {
    this.checkShape(x);
    const valid = tf.tidy(() =>
      tf.logicalAnd(tf.all(tf.isFinite(x), 1), tf.lessEqual(tf.max(tf.abs(x), 1), this.maxAbsInput)),
    );
    const clean = tf.tidy(() => tf.where(tf.expandDims(valid, 1), x, tf.zerosLike(x)) as tf.Tensor2D);
    const zs: tf.Tensor2D[] = [];
    let h = clean;
    let sumLogDet = tf.zeros([x.shape[0]]) as tf.Tensor1D;
    for (const f of this.flows) {
      const { z, logDet } = f.forward(h);
      const next = tf.add(sumLogDet, logDet) as tf.Tensor1D;
      logDet.dispose();
      sumLogDet.dispose();
      sumLogDet = next;
      zs.push(z);
      h = z;
    }
    const priorLogProb = this.prior.logProb(h);
    if (this.flows.length === 0) zs.push(tf.clone(clean));
    clean.dispose();
    const logProb = tf.tidy(() => {
      const raw = tf.add(priorLogProb, sumLogDet);
      const ok = tf.logicalAnd(valid, tf.isFinite(raw));
      return tf.where(ok, tf.maximum(raw, LOG_PROB_FLOOR), tf.fill(raw.shape, LOG_PROB_FLOOR)) as tf.Tensor1D;
    });
    valid.dispose();
    return { logProb, priorLogProb, sumLogDet, zs };
  }

  /** log p(x) per row only; intermediates are released. */
  score(x: tf.Tensor2D): tf.Tensor1D {
    const r = this.logProb(x);
    r.priorLogProb.dispose();
    r.sumLogDet.dispose();
    for (const z of r.zs) z.dispose();
    return r.logProb;
  }

  /**
   * log p_prior(f(x)) per row (the `latent` score, no log-determinant), floored and with invalid rows at
   * `LOG_PROB_FLOOR` like `logProb`.
   */
  latentScore(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const { priorLogProb } = this.logProb(x);
      const valid = tf.logicalAnd(
        tf.all(tf.isFinite(x), 1),
        tf.lessEqual(tf.max(tf.abs(x), 1), this.maxAbsInput),
      );
      const ok = tf.logicalAnd(valid, tf.isFinite(priorLogProb));
      const floored = tf.maximum(priorLogProb, LOG_PROB_FLOOR);
      return tf.where(ok, floored, tf.fill(priorLogProb.shape, LOG_PROB_FLOOR)) as tf.Tensor1D;
    });
  }

  /** Mean negative log-likelihood of a batch, in nats; the training objective. */
  nll(x: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => tf.neg(tf.mean(this.score(x))) as tf.Scalar);
  }

  /** latent → data through the inverses, last transform first. */
  inverse(z: tf.Tensor2D): tf.Tensor2D {
    this.checkShape(z);
    return tf.tidy(() => {
      let h = z;
      for (let i = this.flows.length - 1; i >= 0; i--) h = this.flows[i]!.inverse(h);
      return h === z ? tf.clone(z) : h;
    });
  }

  /** `n` samples from the model, reproducible for a given `rng` state. */
  sample(n: number, rng: Rng): tf.Tensor2D {
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidOptionError(`sample size must be a positive integer, got ${n}`);
    return tf.tidy(() => this.inverse(this.prior.sample(n, rng)));
  }

  /**
   * Runs each transform's data-dependent initialisation (e.g. ActNorm) once, on the valid rows of this
   * batch (rows that `logProb` would floor are left out). Reads the batch back once.
   */
  initialize(x: tf.Tensor2D): void {
    if (this.initialized) return;
    this.checkShape(x);
    const values = x.dataSync();
    const kept: number[] = [];
    for (let r = 0; r < x.shape[0]; r++) {
      const row = values.subarray(r * this.dim, (r + 1) * this.dim);
      if (row.every((v) => Number.isFinite(v) && Math.abs(v) <= this.maxAbsInput)) kept.push(...row);
    }
    if (kept.length === 0) return;
    tf.tidy(() => {
      let h = tf.tensor2d(kept, [kept.length / this.dim, this.dim]);
      for (const f of this.flows) {
        f.initialize?.(h);
        h = f.forward(h).z;
      }
    });
    this.initialized = true;
  }

  /** Whether `initialize` has run (or the flow was restored from JSON). */
  get isInitialized(): boolean {
    return this.initialized;
  }

  /** All trainable variables: transforms first, then the prior. */
  trainableVariables(): tf.Variable[] {
    return [...this.flows.flatMap((f) => f.trainableVariables()), ...this.prior.trainableVariables()];
  }

  /** Architecture and weights as versioned JSON. */
  toJSON(): FlowSpec {
    return {
      format: 'flowsentinel.flow',
      version: 1,
      dim: this.dim,
      maxAbsInput: this.maxAbsInput,
      prior: this.prior.toJSON(),
      flows: this.flows.map((f) => f.toJSON()),
    };
  }

  /** Rebuilds a flow from `toJSON` output. `revive` maps each module spec to an instance. */
  static fromJSON(spec: unknown, revive: ModuleReviver): NormalizingFlow {
    const s = spec as Partial<FlowSpec> | null;
    if (s === null || typeof s !== 'object' || s.format !== 'flowsentinel.flow') {
      throw new SerializationError('not a flowsentinel flow: the "format" field is missing or wrong');
    }
    if (s.version !== 1) {
      throw new SerializationError(
        `flow format version ${String(s.version)} is not supported (this build reads 1)`,
        {
          context: { version: s.version },
        },
      );
    }
    if (s.prior === undefined || !Array.isArray(s.flows)) {
      throw new SerializationError('flow JSON lacks "prior" or "flows"');
    }
    const prior = revive(s.prior);
    if (!('sample' in prior)) throw new SerializationError(`"${s.prior.kind}" is not a prior`);
    const flows = s.flows.map((m) => {
      const b = revive(m);
      if (!('forward' in b)) throw new SerializationError(`"${m.kind}" is not a transform`);
      return b;
    });
    const flow = new NormalizingFlow(prior, flows, { maxAbsInput: s.maxAbsInput ?? 1e6 });
    flow.initialized = true;
    return flow;
  }

  /** Frees every variable of the prior and the transforms. */
  dispose(): void {
    for (const f of this.flows) f.dispose();
    this.prior.dispose();
  }

  private checkShape(x: tf.Tensor): void {
    if (x.rank !== 2 || x.shape[1] !== this.dim) {
      throw new InvalidOptionError(
        `expected input of shape [batch, ${this.dim}], got [${x.shape.join(', ')}]`,
      );
    }
  }
}
