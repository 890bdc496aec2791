import { FlowsentinelError } from '../../errors.js';
import type { AdamWOptions, AdamWState } from '../adamw.js';
import { clippingEnabled } from '../clip.js';
import * as tf from '../tf.js';
import { HostAdamW } from './host-adamw.js';
import type { ParamStore } from './param-store.js';

/** Loss and gradients of one batch, launched in-graph: a flat `[1 + params]` tensor (loss, then gradients). */
export interface GradientSource {
  /** Launches the loss and gradients of batch `x` with the parameters in `store` (synced). */
  launch(x: tf.Tensor2D, store: ParamStore): tf.Tensor1D;
  /**
   * Computes the loss and gradients of the `n` row-major rows of `values` with the parameters in `store`
   * (synced) without tensors in the engine (on the host, or by calling backend kernels directly), laid out
   * like `launch`'s readback (`unpack` applies to both); when present the stepper prefers it.
   */
  host?(values: Float32Array, n: number, store: ParamStore): Float32Array;
  /** Maps the readback to `[loss, gradients in the store's layout]` when `launch` packs them otherwise. */
  unpack?(packed: Float32Array, store: ParamStore): Float32Array;
  /** Called after the parameters changed (commit or re-sync); e.g. to re-fold weights. */
  paramsChanged?(store: ParamStore): void;
  dispose?(): void;
}

/** Objective-agnostic gradients by tfjs autodiff, packed for one readback. */
export function autodiffGradients(objective: (x: tf.Tensor2D) => tf.Scalar): GradientSource {
  return {
    launch: (x, store) =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => objective(x), [...store.vars]);
        const flat = store.vars.map((v) => tf.reshape(grads[v.name] ?? tf.zerosLike(v), [-1]));
        return tf.concat([tf.reshape(value, [1]), ...flat]) as tf.Tensor1D;
      }),
  };
}

/** What a host step decided from its one readback. */
export interface HostStepOutcome {
  readonly loss: number;
  readonly gradNorm: number;
  readonly ok: boolean;
}

/**
 * A training step whose optimizer runs outside the per-variable graph: the gradient source's one packed
 * readback gives the loss and every gradient; global-norm clipping, the non-finite check and AdamW run
 * on host arrays; the new weights are uploaded as new tensors. A non-finite loss or gradient norm skips
 * the update (weights, moments and step counter unchanged).
 */
export class HostStepper {
  readonly store: ParamStore;
  private readonly optimizer: HostAdamW;
  private readonly clipNorm: number;
  private readonly source: GradientSource;

  constructor(store: ParamStore, source: GradientSource, hyper: AdamWOptions, clipNorm: number) {
    this.store = store;
    this.optimizer = new HostAdamW(
      this.store.vars.map((v) => ({ shape: v.shape })),
      hyper,
    );
    this.clipNorm = clipNorm;
    this.source = source;
  }

  /** Runs the gradient source; the caller reads the returned tensor back once and calls `finish`. */
  launch(x: tf.Tensor2D): tf.Tensor1D {
    if (this.store.sync()) this.source.paramsChanged?.(this.store);
    return this.source.launch(x, this.store);
  }

  /** Whether the source computes on the host (`computeHost`), so a step needs no tensor. */
  get onHost(): boolean {
    return this.source.host !== undefined;
  }

  /** The packed loss and gradients from the source's host computation (see `GradientSource.host`). */
  computeHost(values: Float32Array, n: number): Float32Array {
    if (this.source.host === undefined)
      throw new FlowsentinelError('this gradient source has no host computation');
    if (this.store.sync()) this.source.paramsChanged?.(this.store);
    return this.source.host(values, n, this.store);
  }

  /** Clip, check and update from the readback of `launch` (or from `computeHost`). */
  finish(readback: Float32Array, lr: number): HostStepOutcome {
    const packed = this.source.unpack?.(readback, this.store) ?? readback;
    const loss = packed[0]!;
    const grads = packed.subarray(1);
    let sq = 0;
    for (let k = 0; k < grads.length; k++) sq += grads[k]! * grads[k]!;
    const gradNorm = Math.sqrt(sq);
    const ok = Number.isFinite(loss) && Number.isFinite(gradNorm);
    if (!ok) return { loss, gradNorm, ok };
    const scale = clippingEnabled(this.clipNorm) ? this.clipNorm / Math.max(gradNorm, this.clipNorm) : 1;
    this.optimizer.apply(this.store.values, grads, lr, scale);
    this.store.commit();
    this.source.paramsChanged?.(this.store);
    return { loss, gradNorm, ok };
  }

  get step(): number {
    return this.optimizer.step;
  }

  getState(): AdamWState {
    return this.optimizer.getState();
  }

  setState(state: unknown): void {
    this.optimizer.setState(state);
  }

  dispose(): void {
    this.source.dispose?.();
  }
}
