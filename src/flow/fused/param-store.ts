import * as tf from '../tf.js';

/**
 * Data to upload from `view` without a copy of our own where the backend copies at once: wasm writes new
 * tensor data into its heap inside `tf.tensor` (`BackendWasm.move`), so the view may change afterwards;
 * other backends (cpu) keep the array they are given, so they get a copy.
 */
export function uploadable(view: Float32Array): Float32Array {
  return tf.getBackend() === 'wasm' ? view : view.slice();
}

/**
 * Host (JS) copies of a fixed list of tfjs variables, flattened into one Float32Array in variable order.
 * The copy is re-read (one readback for all variables) only when a variable's data changed behind the
 * store's back (initialisation, `assign` by someone else): tfjs gives every new value a new `dataId`, so
 * comparing ids is exact and costs no kernel. `commit` uploads *new* tensors and assigns them: writing
 * into the existing buffers in place is wrong on wasm, where XNNPACK caches packed weights per tensor.
 */
export class ParamStore {
  readonly vars: readonly tf.Variable[];
  /** Offset of each variable in `values`. */
  readonly offsets: readonly number[];
  /** Number of values. */
  readonly size: number;
  /** The variables' values, variable after variable, row-major. Valid after `sync()`. */
  readonly values: Float32Array;
  private ids: unknown[] = [];

  constructor(vars: readonly tf.Variable[]) {
    this.vars = [...vars];
    const offsets: number[] = [];
    let n = 0;
    for (const v of this.vars) {
      offsets.push(n);
      n += v.size;
    }
    this.offsets = offsets;
    this.size = n;
    this.values = new Float32Array(n);
  }

  /** The slice of `flat` (laid out like `values`) belonging to variable `i`. */
  slice(flat: Float32Array, i: number): Float32Array {
    const o = this.offsets[i]!;
    return flat.subarray(o, o + this.vars[i]!.size);
  }

  /** Whether `values` may be stale (some variable got a new value since the last sync or commit). */
  get stale(): boolean {
    return this.ids.length !== this.vars.length || this.vars.some((v, i) => v.dataId !== this.ids[i]);
  }

  /** Re-reads the variables when stale; returns true when it did. */
  sync(): boolean {
    if (!this.stale) return false;
    const flat = tf.tidy(() => tf.concat(this.vars.map((v) => tf.reshape(v, [-1]))));
    try {
      this.values.set(flat.dataSync() as Float32Array);
    } finally {
      flat.dispose();
    }
    this.ids = this.vars.map((v) => v.dataId);
    return true;
  }

  /** Uploads `values` as new tensors and assigns them to the variables. */
  commit(): void {
    for (const [i, v] of this.vars.entries()) {
      const t = tf.tensor(uploadable(this.slice(this.values, i)), v.shape, 'float32');
      v.assign(t);
      t.dispose();
    }
    this.ids = this.vars.map((v) => v.dataId);
  }
}
