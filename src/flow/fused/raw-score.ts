/**
 * The fused scoring pass on the wasm backend without tfjs's op layer: the same kernels, in the same order,
 * with the same inputs and attributes as `FusedModel`'s tfjs ops, called directly on the backend. A
 * `tf.fused.matMul` op costs three reshapes, a custom-gradient wrapper, scope and tensor bookkeeping
 * around its one kernel; at d = 8 and batch 256 that JavaScript cost is as large as the arithmetic. The
 * kernels are the ones the ops run (reshapes there are views of the same data), so the scores are the
 * same bits. Intermediate data is freed on the backend as soon as it is used; nothing reaches the
 * engine's tensor count.
 */
import * as tf from '../tf.js';

/** Data on the backend: what a kernel takes and returns. */
export interface Info {
  readonly dataId: object;
  readonly shape: readonly number[];
  readonly dtype: string;
}

/** The parts of the wasm backend used here (`BackendWasm`). */
interface WasmBackend {
  write(values: Float32Array, shape: number[], dtype: 'float32'): object;
  readSync(dataId: object): Float32Array;
  /** A view of `info`'s data in the wasm heap (valid until the heap grows or the data is freed). */
  typedArrayFromHeap(info: Info): Float32Array;
  disposeData(dataId: object, force?: boolean): boolean;
  /** Allocates uninitialised data of `shape` on the backend. */
  makeOutput(shape: number[], dtype: 'float32'): Info;
}

type Kernel = (args: { inputs: object; backend: WasmBackend; attrs?: object }) => Info;

/** One conditioner hidden layer and its activation. */
interface RawHidden {
  readonly w: tf.Tensor2D;
  readonly b: tf.Tensor1D;
}

/** The folded weights `FusedModel` holds, as far as scoring reads them. */
export type RawLayer =
  | {
      readonly plan: {
        readonly kind: 'coupling';
        readonly activation: 'relu' | 'tanh';
        readonly clamp: number;
      };
      readonly w: readonly tf.Tensor2D[];
      readonly b: readonly tf.Tensor1D[];
      readonly wt: tf.Tensor2D;
      readonly ws: tf.Tensor2D;
      readonly bt: tf.Tensor1D;
      readonly bs: tf.Tensor1D;
    }
  | { readonly plan: { readonly kind: 'elementwise' }; readonly a: tf.Tensor1D; readonly b: tf.Tensor1D }
  | { readonly plan: { readonly kind: 'permute' }; readonly p: tf.Tensor2D };

/** The kernels of the scoring pass and of the training step (raw-step.ts). */
export const KERNELS = [
  '_FusedMatMul',
  'BatchMatMul',
  'Multiply',
  'Add',
  'Sub',
  'Neg',
  'Exp',
  'Tanh',
  'Square',
  'Step',
  'Sum',
  'Transpose',
] as const;
type KernelName = (typeof KERNELS)[number];

/** The wasm kernels by name, or undefined when the active backend is not wasm. */
export function wasmKernels(): { backend: WasmBackend; k: Record<KernelName, Kernel> } | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const k = {} as Record<KernelName, Kernel>;
  for (const name of KERNELS) {
    const config = tf.getKernel(name, 'wasm');
    if (config === undefined) return undefined;
    k[name] = config.kernelFunc as unknown as Kernel;
  }
  return { backend: tf.backend() as unknown as WasmBackend, k };
}

/** Runs kernels and frees every output it did not hand back. */
export class Pass {
  private readonly owned: object[] = [];
  private readonly scalars = new Map<number, Info>();

  constructor(
    readonly backend: WasmBackend,
    readonly k: Record<KernelName, Kernel>,
  ) {}

  input(values: Float32Array, shape: number[]): Info {
    const dataId = this.backend.write(values, shape, 'float32');
    this.owned.push(dataId);
    return { dataId, shape, dtype: 'float32' };
  }

  /** A float32 scalar, as `tf.mul(x, v)` makes of a number. */
  scalar(v: number): Info {
    let s = this.scalars.get(v);
    if (s === undefined) {
      s = this.input(Float32Array.of(v), []);
      this.scalars.set(v, s);
    }
    return s;
  }

  /** `tf.matMul(a, b)` of 2-D `a`, `b` (no transposes). */
  matMul(a: Info, b: Info): Info {
    return this.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  }

  /** Uninitialised `[shape]` data on the backend, freed with the pass; fill it through `view`. */
  output(shape: number[]): Info {
    const out = this.backend.makeOutput(shape, 'float32');
    this.owned.push(out.dataId);
    return out;
  }

  /**
   * A view of `x`'s data in the wasm heap. Take views after the pass's last `output` or kernel call that
   * precedes their use: an allocation can grow the heap and detach earlier views.
   */
  view(x: Info): Float32Array {
    return this.backend.typedArrayFromHeap(x);
  }

  /** `data` read back (a copy). */
  read(x: Info): Float32Array {
    return this.backend.readSync(x.dataId);
  }

  /** Copies `x`'s data (or its values `from`…`to`) into `out` from `offset`; returns the offset after it. */
  readInto(x: Info, out: Float32Array, offset: number, from = 0, to?: number): number {
    const all = this.backend.typedArrayFromHeap(x);
    const view = from === 0 && to === undefined ? all : all.subarray(from, to);
    out.set(view, offset);
    return offset + view.length;
  }

  run(name: KernelName, inputs: object, attrs?: object): Info {
    const out = this.k[name]({ inputs, backend: this.backend, ...(attrs ? { attrs } : {}) });
    this.owned.push(out.dataId);
    return out;
  }

  /** `tf.fused.matMul({ a, b, bias, activation })` of 2-D `a`, `b`: the kernel on 3-D views. */
  fusedMatMul(a: Info, b: Info, bias: Info | undefined, activation: 'relu' | 'linear'): Info {
    const n = a.shape[0]!;
    const inner = a.shape[1]!;
    const m = b.shape[1]!;
    const a3 = { dataId: a.dataId, shape: [1, n, inner], dtype: 'float32' };
    const b3 = { dataId: b.dataId, shape: [1, inner, m], dtype: 'float32' };
    const attrs = { transposeA: false, transposeB: false, activation, leakyreluAlpha: 0.2 };
    const out = this.run(
      '_FusedMatMul',
      bias === undefined ? { a: a3, b: b3 } : { a: a3, b: b3, bias },
      attrs,
    );
    return { dataId: out.dataId, shape: [n, m], dtype: 'float32' };
  }

  free(): void {
    for (const id of this.owned) this.backend.disposeData(id, true);
    this.owned.length = 0;
  }
}

/** A conditioner hidden layer, as `hiddenLayer` (fused-model.ts) runs it. */
export function hidden(p: Pass, a: Info, l: RawHidden, act: 'relu' | 'tanh'): Info {
  if (act === 'relu') return p.fusedMatMul(a, l.w, l.b, 'relu');
  return p.run('Tanh', { x: p.fusedMatMul(a, l.w, l.b, 'linear') });
}

/**
 * Raw log-density sums of `n` clean rows (`FusedModel.launchScore`'s result, read back), or undefined when
 * the backend is not wasm (then use the tfjs ops). `offset` is the model's log p constant; with `latent`
 * the couplings' log-scales are left out (log p_prior(f(x)): `offset` is then the prior's normaliser).
 */
export function rawScore(
  layers: readonly RawLayer[],
  clean: Float32Array,
  n: number,
  dim: number,
  offset: number,
  latent = false,
): Float32Array | undefined {
  const kernels = wasmKernels();
  if (kernels === undefined) return undefined;
  const p = new Pass(kernels.backend, kernels.k);
  try {
    let h = p.input(clean, [n, dim]);
    let s: Info | undefined;
    for (const l of layers) {
      if (l.plan.kind === 'coupling' && 'wt' in l) {
        const act = l.plan.activation;
        let a = h;
        l.w.forEach((w, i) => {
          a = hidden(p, a, { w, b: l.b[i]! }, act);
        });
        const t = p.fusedMatMul(a, l.wt, l.bt, 'linear');
        const tanh = p.run('Tanh', { x: p.fusedMatMul(a, l.ws, l.bs, 'linear') });
        const ls = p.run('Multiply', { a: tanh, b: p.scalar(l.plan.clamp) });
        const scaled = p.run('Multiply', { a: h, b: p.run('Exp', { x: ls }) });
        h = p.run('Add', { a: scaled, b: t });
        if (!latent) s = s === undefined ? ls : p.run('Add', { a: s, b: ls });
      } else if (l.plan.kind === 'elementwise' && 'a' in l) {
        h = p.run('Add', { a: p.run('Multiply', { a: h, b: l.a }), b: l.b });
      } else if ('p' in l) {
        h = p.matMul(h, l.p);
      }
    }
    const quad = p.run('Multiply', { a: p.run('Square', { x: h }), b: p.scalar(-0.5) });
    const total = s === undefined ? quad : p.run('Add', { a: s, b: quad });
    const sum = p.run('Sum', { x: total }, { axis: 1, keepDims: false });
    const lp = p.run('Add', { a: sum, b: p.scalar(offset) });
    return p.read(lp);
  } finally {
    p.free();
  }
}
