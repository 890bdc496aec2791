import { InvalidOptionError, SerializationError } from '../errors.js';
import { encodeTensor, readWeight } from './tensor-codec.js';
import * as tf from './tf.js';
import type { SerializedTensor } from './types.js';

/** Hyperparameters of `AdamW` (everything except the learning rate, which is passed per update). */
export interface AdamWOptions {
  /** Decay of the first-moment average, in [0, 1). Default 0.9. */
  readonly beta1?: number;
  /** Decay of the second-moment average, in [0, 1). Default 0.999. */
  readonly beta2?: number;
  /** Added to √v̂ to avoid division by zero. Default 1e-8. */
  readonly epsilon?: number;
  /** Decoupled weight decay per unit learning rate (θ ← θ − lr·wd·θ). Default 0. */
  readonly weightDecay?: number;
  /**
   * Exempt parameters of rank < 2 (shifts, log-scales, biases) from weight decay, since shrinking them
   * towards 0 biases the model rather than regularising it. Default true.
   */
  readonly excludeVectorsFromDecay?: boolean;
}

/** Resolved hyperparameters, as stored in `AdamWState`. */
export type AdamWHyperparameters = Required<AdamWOptions>;

/** JSON form of the optimizer state (plain data; `JSON.stringify` safe). */
export interface AdamWState {
  readonly format: 'flowsentinel.adamw';
  readonly version: 1;
  /** Updates applied so far (skipped updates are not counted); drives bias correction. */
  readonly step: number;
  readonly hyperparameters: AdamWHyperparameters;
  /** First moments, keyed `m/<index>` in variable order. */
  readonly m: Record<string, SerializedTensor>;
  /** Second moments, keyed `v/<index>` in variable order. */
  readonly v: Record<string, SerializedTensor>;
}

/** Resolves and validates AdamW options (shared with the host optimizer). */
export function resolveOptions(o: AdamWOptions): AdamWHyperparameters {
  const h: AdamWHyperparameters = {
    beta1: o.beta1 ?? 0.9,
    beta2: o.beta2 ?? 0.999,
    epsilon: o.epsilon ?? 1e-8,
    weightDecay: o.weightDecay ?? 0,
    excludeVectorsFromDecay: o.excludeVectorsFromDecay ?? true,
  };
  for (const k of ['beta1', 'beta2'] as const) {
    if (!(h[k] >= 0 && h[k] < 1)) throw new InvalidOptionError(`${k} must be in [0, 1), got ${h[k]}`);
  }
  if (!(h.epsilon > 0 && Number.isFinite(h.epsilon))) {
    throw new InvalidOptionError(`epsilon must be a finite number > 0 (e.g. 1e-8), got ${h.epsilon}`);
  }
  if (!(h.weightDecay >= 0 && Number.isFinite(h.weightDecay))) {
    throw new InvalidOptionError(
      `weightDecay must be a finite number ≥ 0 (0 disables), got ${h.weightDecay}`,
    );
  }
  if (typeof h.excludeVectorsFromDecay !== 'boolean') {
    throw new InvalidOptionError('excludeVectorsFromDecay must be a boolean');
  }
  return h;
}

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter), over a fixed list of variables:
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,  m̂ = m/(1−β1ᵗ),  v̂ = v/(1−β2ᵗ),
 *   θ ← θ − lr·(m̂/(√v̂+ε) + wd·θ).
 * The moments and the step counter t are tfjs variables owned by the optimizer, created eagerly.
 * An update can be vetoed in-graph by a `finite` flag, so the caller never has to read values back
 * before deciding whether to apply it.
 */
export class AdamW {
  private readonly vars: readonly tf.Variable[];
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private readonly t: tf.Variable;
  private hyper: AdamWHyperparameters;
  private disposed = false;

  constructor(variables: readonly tf.Variable[], options: AdamWOptions = {}) {
    if (variables.length === 0) throw new InvalidOptionError('AdamW needs at least one variable to optimise');
    this.hyper = resolveOptions(options);
    this.vars = [...variables];
    // tidy frees the zero initialisers; variables survive it.
    this.m = tf.tidy(() => this.vars.map((x) => tf.variable(tf.zerosLike(x), false)));
    this.v = tf.tidy(() => this.vars.map((x) => tf.variable(tf.zerosLike(x), false)));
    this.t = tf.tidy(() => tf.variable(tf.scalar(0, 'int32'), false));
  }

  /** Current hyperparameters (restored ones after `setState`). */
  get hyperparameters(): AdamWHyperparameters {
    return { ...this.hyper };
  }

  /** Number of variables this optimizer updates. */
  get size(): number {
    return this.vars.length;
  }

  /**
   * One update with learning rate `lr`. `grads` align with the variables (same order and shapes).
   * `finite` is a scalar (bool, or 0/1): when false/0 nothing changes — parameters, moments and step
   * counter all keep their values — decided in-graph via `tf.where`. The caller keeps ownership of
   * `grads` and `finite`.
   */
  apply(grads: readonly tf.Tensor[], lr: number, finite: tf.Scalar): void {
    this.checkAlive();
    this.checkGrads(grads);
    if (!(Number.isFinite(lr) && lr >= 0)) {
      throw new InvalidOptionError(`learning rate must be a finite number ≥ 0, got ${lr}`);
    }
    const { beta1, beta2, epsilon } = this.hyper;
    tf.tidy(() => {
      const ok = finite.dtype === 'bool' ? finite : tf.notEqual(finite, 0);
      const tNext = tf.add(this.t, tf.scalar(1, 'int32'));
      const tf32 = tf.cast(tNext, 'float32');
      const bc1 = tf.sub(1, tf.pow(tf.scalar(beta1), tf32));
      const bc2 = tf.sub(1, tf.pow(tf.scalar(beta2), tf32));
      for (const [i, theta] of this.vars.entries()) {
        const g = grads[i]!;
        const m = this.m[i]!;
        const v = this.v[i]!;
        const m1 = tf.add(tf.mul(beta1, m), tf.mul(1 - beta1, g));
        const v1 = tf.add(tf.mul(beta2, v), tf.mul(1 - beta2, tf.square(g)));
        const mHat = tf.div(m1, bc1);
        const vHat = tf.div(v1, bc2);
        let update = tf.div(mHat, tf.add(tf.sqrt(vHat), epsilon));
        const wd = this.decayOf(theta);
        if (wd > 0) update = tf.add(update, tf.mul(wd, theta));
        const theta1 = tf.sub(theta, tf.mul(lr, update));
        theta.assign(tf.where(ok, theta1, theta));
        m.assign(tf.where(ok, m1, m));
        v.assign(tf.where(ok, v1, v));
      }
      this.t.assign(tf.where(ok, tNext, this.t));
    });
  }

  /** Updates applied so far (reads the counter synchronously). */
  stepCount(): number {
    this.checkAlive();
    return this.t.dataSync()[0]!;
  }

  /** Moments, step counter and hyperparameters as plain JSON. Reads tensors synchronously. */
  getState(): AdamWState {
    this.checkAlive();
    const m: Record<string, SerializedTensor> = {};
    const v: Record<string, SerializedTensor> = {};
    for (let i = 0; i < this.vars.length; i++) {
      m[`m/${i}`] = encodeTensor(this.m[i]!);
      v[`v/${i}`] = encodeTensor(this.v[i]!);
    }
    return {
      format: 'flowsentinel.adamw',
      version: 1,
      step: this.stepCount(),
      hyperparameters: { ...this.hyper },
      m,
      v,
    };
  }

  /**
   * Restores `getState` output. Moments, step and hyperparameters are all taken from the state (as
   * PyTorch's `load_state_dict` does). Everything is validated before anything is assigned, so a
   * rejected state (SerializationError) leaves the optimizer unchanged.
   */
  setState(state: unknown): void {
    this.checkAlive();
    const s = parseHeader(state);
    const hyper = parseHyperparameters(s.hyperparameters);
    const m = checkMomentMap(s.m, 'm', this.vars.length);
    const v = checkMomentMap(s.v, 'v', this.vars.length);
    const decoded: tf.Tensor[] = [];
    try {
      for (const [i, x] of this.vars.entries()) {
        decoded.push(readWeight(m, `m/${i}`, x.shape));
        decoded.push(readWeight(v, `v/${i}`, x.shape));
      }
    } catch (err) {
      for (const t of decoded) t.dispose();
      throw err;
    }
    for (let i = 0; i < this.vars.length; i++) {
      this.m[i]!.assign(decoded[2 * i]!);
      this.v[i]!.assign(decoded[2 * i + 1]!);
    }
    for (const t of decoded) t.dispose();
    tf.tidy(() => this.t.assign(tf.scalar(s.step, 'int32')));
    this.hyper = hyper;
  }

  /** Frees the moment and step variables (not the optimised variables, which the caller owns). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const x of [...this.m, ...this.v, this.t]) x.dispose();
  }

  private decayOf(theta: tf.Variable): number {
    return this.hyper.excludeVectorsFromDecay && theta.rank < 2 ? 0 : this.hyper.weightDecay;
  }

  private checkGrads(grads: readonly tf.Tensor[]): void {
    if (grads.length !== this.vars.length) {
      throw new InvalidOptionError(
        `expected ${this.vars.length} gradients (one per variable), got ${grads.length}`,
      );
    }
    for (const [i, g] of grads.entries()) {
      const shape = this.vars[i]!.shape;
      if (g.shape.length !== shape.length || g.shape.some((d, k) => d !== shape[k])) {
        throw new InvalidOptionError(
          `gradient ${i} has shape [${g.shape.join(', ')}] but its variable has [${shape.join(', ')}]`,
        );
      }
    }
  }

  private checkAlive(): void {
    if (this.disposed)
      throw new InvalidOptionError('this AdamW optimizer has been disposed; create a new one');
  }
}

/** Checks the format, version and step of a serialized AdamW state. */
export function parseHeader(state: unknown): AdamWState {
  const s = state as Partial<AdamWState> | null;
  if (s === null || typeof s !== 'object' || s.format !== 'flowsentinel.adamw') {
    throw new SerializationError('not an AdamW optimizer state: the "format" field is missing or wrong');
  }
  if (s.version !== 1) {
    throw new SerializationError(
      `AdamW state version ${String(s.version)} is not supported (this build reads 1)`,
      { context: { version: s.version } },
    );
  }
  if (typeof s.step !== 'number' || !Number.isInteger(s.step) || s.step < 0 || s.step > 2 ** 31 - 1) {
    throw new SerializationError(
      `AdamW state has an invalid step ${String(s.step)}; expected an integer ≥ 0`,
    );
  }
  return s as AdamWState;
}

/** Validates the hyperparameters of a serialized AdamW state. */
export function parseHyperparameters(h: unknown): AdamWHyperparameters {
  if (h === null || typeof h !== 'object') {
    throw new SerializationError('AdamW state lacks its "hyperparameters" object');
  }
  try {
    const r = resolveOptions(h as AdamWOptions);
    const given = h as Record<string, unknown>;
    for (const k of Object.keys(r)) {
      if (given[k] === undefined) throw new InvalidOptionError(`"${k}" is missing`);
    }
    return r;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new SerializationError(`AdamW state has invalid hyperparameters: ${detail}`, { cause: err });
  }
}

/** Validates one moment map (`m` or `v`) of a serialized AdamW state. */
export function checkMomentMap(
  map: unknown,
  prefix: 'm' | 'v',
  count: number,
): Readonly<Record<string, SerializedTensor>> {
  if (map === null || typeof map !== 'object') {
    throw new SerializationError(`AdamW state lacks its "${prefix}" moments`);
  }
  const n = Object.keys(map).length;
  if (n !== count) {
    throw new SerializationError(
      `AdamW state holds ${n} "${prefix}" moments but the optimizer has ${count} variables; ` +
        'the checkpoint belongs to a different model architecture',
      { context: { expected: count, got: n } },
    );
  }
  for (const [key, t] of Object.entries(map as Record<string, unknown>)) {
    const e = t as Partial<SerializedTensor> | null;
    if (e === null || typeof e !== 'object' || !Array.isArray(e.shape) || typeof e.data !== 'string') {
      throw new SerializationError(`AdamW state moment "${key}" is not a serialized tensor`);
    }
  }
  return map as Record<string, SerializedTensor>;
}
