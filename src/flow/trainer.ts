import { FlowsentinelError, InvalidOptionError } from '../errors.js';
import { AdamW } from './adamw.js';
import { clipByGlobalNorm } from './clip.js';
import { type Engine, fusedParts, type RowScorer } from './fused/engine.js';
import { HostStepper } from './fused/host-step.js';
import type { NormalizingFlow } from './normalizing-flow.js';
import type { LearningRateSchedule } from './schedule.js';
import * as tf from './tf.js';
import { parseTrainerState, resolveTrainerOptions } from './trainer-options.js';
import type {
  FitOptions,
  FitResult,
  Objective,
  StepResult,
  TrainerOptions,
  TrainerState,
} from './trainer-types.js';
import type { ScoreKind } from './types.js';

/** Misuse of a `Trainer` at run time: disposed, re-entered, or its flow's variables changed. */
export class TrainerError extends FlowsentinelError {}

export type {
  FitOptions,
  FitResult,
  Objective,
  StepResult,
  TrainerOptions,
  TrainerState,
} from './trainer-types.js';

/**
 * Trains a `NormalizingFlow` by AdamW with global-norm clipping. Each step reads back exactly one small
 * tensor (loss, gradient norm, finite flag); whether to apply the update is decided in-graph, so a
 * non-finite loss or gradient leaves weights and optimizer state untouched (the `fused` engine decides on
 * the host from one readback, or from none on the host engine). The trainer does not own the flow:
 * `dispose()` frees only the optimizer state.
 */
export class Trainer {
  readonly flow: NormalizingFlow;
  /** The requested engine. */
  readonly engine: Engine;
  private readonly optimizer: AdamW | undefined;
  private readonly host: HostStepper | undefined;
  private readonly fused: RowScorer | undefined;
  private readonly vars: readonly tf.Variable[];
  private readonly schedule: LearningRateSchedule;
  private readonly clipNorm: number;
  private readonly objective: Objective;
  private readonly hostScoreMaxRows: number;
  private readonly onHost: boolean;
  private applied = 0;
  private skipped = 0;
  private pending = false;
  private disposed = false;

  constructor(flow: NormalizingFlow, options: TrainerOptions = {}) {
    const { schedule, clipNorm, engine, hostScoreMaxRows, hyper } = resolveTrainerOptions(options);
    this.schedule = schedule;
    this.clipNorm = clipNorm;
    this.engine = engine;
    this.hostScoreMaxRows = hostScoreMaxRows;
    this.objective = options.objective ?? ((f, x) => f.nll(x));
    this.flow = flow;
    this.vars = flow.trainableVariables();
    if (this.vars.length === 0) throw new InvalidOptionError('the flow has no trainable variables');
    if (engine === 'autodiff') {
      this.optimizer = new AdamW(this.vars, hyper);
      this.host = undefined;
      this.fused = undefined;
      this.onHost = false;
    } else {
      this.optimizer = undefined;
      const parts = fusedParts(flow, options.objective === undefined, (x) => this.objective(this.flow, x));
      this.host = new HostStepper(parts.store, parts.source, hyper, clipNorm);
      this.fused = parts.model;
      this.onHost = parts.onHost;
    }
  }

  /** Updates applied so far. */
  get stepCount(): number {
    return this.applied;
  }

  /** Steps whose update was skipped because the loss or gradient norm was non-finite. */
  get skippedSteps(): number {
    return this.skipped;
  }

  /** One AdamW step on batch `x` (`[batch, dim]`); the caller keeps ownership of `x`. */
  async step(x: tf.Tensor2D): Promise<StepResult> {
    if (this.host?.onHost === true) return this.stepOnHost(x, x.dataSync() as Float32Array, x.shape[0]);
    const { packed, lr } = this.launch(x);
    this.pending = true;
    try {
      return this.finish((await packed.data()) as Float32Array, lr);
    } finally {
      packed.dispose();
      this.pending = false;
    }
  }

  /**
   * `step` on `n` row-major rows of `values`. With the host engine (mixture-CDF flows) no tensor is made
   * (one is, once, to initialise the flow); otherwise the rows are uploaded for `step`.
   */
  async stepRows(values: Float32Array, n: number): Promise<StepResult> {
    const dim = this.flow.dim;
    if (this.host?.onHost === true) return this.stepOnHost(() => tf.tensor2d(values, [n, dim]), values, n);
    const x = tf.tensor2d(values, [n, dim]);
    try {
      return await this.step(x);
    } finally {
      x.dispose();
    }
  }

  /** Synchronous `step`, for tests and scripts; blocks on the readback. */
  stepSync(x: tf.Tensor2D): StepResult {
    if (this.host?.onHost === true) return this.stepOnHost(x, x.dataSync() as Float32Array, x.shape[0]);
    const { packed, lr } = this.launch(x);
    try {
      return this.finish(packed.dataSync() as Float32Array, lr);
    } finally {
      packed.dispose();
    }
  }

  /**
   * Offline training on a fixed data set: `steps` minibatches of `batchSize` rows drawn with replacement
   * by `rng`. `data` is a `[rows, dim]` tensor (read once) or row-major float32 values.
   */
  async fit(data: tf.Tensor2D | Float32Array, options: FitOptions): Promise<FitResult> {
    const { steps, batchSize, rng, onStep } = options;
    for (const [name, n] of [
      ['steps', steps],
      ['batchSize', batchSize],
    ] as const) {
      if (!Number.isInteger(n) || n < 1)
        throw new InvalidOptionError(`${name} must be an integer ≥ 1, got ${n}`);
    }
    const dim = this.flow.dim;
    if (!(data instanceof Float32Array) && (data.rank !== 2 || data.shape[1] !== dim)) {
      throw new InvalidOptionError(`data must have shape [rows, ${dim}], got [${data.shape.join(', ')}]`);
    }
    const values = data instanceof Float32Array ? data : (data.dataSync() as Float32Array);
    if (values.length === 0 || values.length % dim !== 0) {
      throw new InvalidOptionError(`data must hold a positive whole number of rows of ${dim} values`);
    }
    const rows = values.length / dim;
    const losses: number[] = [];
    const skippedBefore = this.skipped;
    const buf = new Float32Array(batchSize * dim);
    for (let s = 0; s < steps; s++) {
      for (let r = 0; r < batchSize; r++) {
        const src = Math.min(rows - 1, Math.floor(rng.uniform() * rows));
        buf.set(values.subarray(src * dim, (src + 1) * dim), r * dim);
      }
      const batch = tf.tensor2d(buf, [batchSize, dim]);
      let result: StepResult;
      try {
        result = await this.step(batch);
      } finally {
        batch.dispose();
      }
      losses.push(result.loss);
      await onStep?.(result);
    }
    return { losses, skippedSteps: this.skipped - skippedBefore };
  }

  /**
   * Whether scoring (and, with the default objective, training) uses the fused engine's own path: folded
   * weights and fused kernels, or the host engine for mixture-CDF flows (`usesHostEngine`).
   */
  get usesFusedKernels(): boolean {
    return this.fused !== undefined;
  }

  /** Whether the fused engine runs this flow on the host in plain TypeScript (mixture-CDF flows). */
  get usesHostEngine(): boolean {
    return this.onHost;
  }

  /**
   * log p(x) per row, in nats, of row-major `values` (`n` rows of the flow's dim), floored like
   * `NormalizingFlow.logProb`: the fused scorer when available, else `flow.score`. One readback. With
   * `kind` `latent`, log p_prior(f(x)) instead (`flow.latentScore`; see `ScoreKind`).
   */
  async scoreRows(values: Float32Array, n: number, kind: ScoreKind = 'density'): Promise<Float32Array> {
    this.checkAlive();
    if (this.fused !== undefined) {
      return n <= this.hostScoreMaxRows
        ? this.fused.scoreHost(values, n, kind)
        : this.fused.score(values, n, kind);
    }
    const lp = tf.tidy(() => {
      const x = tf.tensor2d(values, [n, this.flow.dim]);
      return kind === 'latent' ? this.flow.latentScore(x) : this.flow.score(x);
    });
    try {
      return (await lp.data()) as Float32Array;
    } finally {
      lp.dispose();
    }
  }

  /** Step counters and optimizer state as plain JSON. */
  getState(): TrainerState {
    this.checkAlive();
    return {
      format: 'flowsentinel.trainer',
      version: 1,
      step: this.applied,
      skippedSteps: this.skipped,
      optimizer: this.optimizer?.getState() ?? this.host!.getState(),
    };
  }

  /** Restores `getState` output (validated; SerializationError leaves the trainer unchanged). */
  setState(state: unknown): void {
    this.checkAlive();
    const s = parseTrainerState(state);
    if (this.optimizer !== undefined) this.optimizer.setState(s.optimizer);
    else this.host!.setState(s.optimizer);
    this.applied = s.step;
    this.skipped = s.skippedSteps;
  }

  /** Frees the optimizer state. The flow stays usable (and owned by the caller). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.optimizer?.dispose();
    this.host?.dispose();
  }

  /**
   * Runs the step's computation: in-graph update and packed [loss, gradNorm, finite] (autodiff), or the
   * packed loss and gradients for the host optimizer (fused).
   */
  private launch(x: tf.Tensor2D): { packed: tf.Tensor1D; lr: number } {
    const lr = this.begin(x);
    if (this.host !== undefined) return { packed: this.host.launch(x), lr };
    const optimizer = this.optimizer!;
    const packed = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => this.objective(this.flow, x), [...this.vars]);
      const list = this.vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
      const clipped = clipByGlobalNorm(list, this.clipNorm);
      const finite = tf.logicalAnd(tf.isFinite(value), tf.isFinite(clipped.norm)) as tf.Scalar;
      optimizer.apply(clipped.grads, lr, finite);
      return tf.stack([value, clipped.norm, tf.cast(finite, 'float32')]) as tf.Tensor1D;
    });
    return { packed, lr };
  }

  /** Checks, initialises the flow on its first batch (`x` or made by it), and the learning rate. */
  private begin(x: tf.Tensor2D | (() => tf.Tensor2D)): number {
    this.checkAlive();
    if (this.pending) {
      throw new TrainerError('step() called while a previous step() is still pending; await it first');
    }
    this.checkVariables();
    if (!this.flow.isInitialized) {
      const t = typeof x === 'function' ? x() : x;
      try {
        this.flow.initialize(t);
      } finally {
        if (t !== x) t.dispose();
      }
    }
    const lr = this.schedule(this.applied);
    if (!(Number.isFinite(lr) && lr >= 0)) {
      throw new InvalidOptionError(
        `the schedule returned learning rate ${lr} at step ${this.applied}; fix it`,
      );
    }
    return lr;
  }

  /** A host-engine step: loss and gradients computed from `values` on the host, no tensors. */
  private stepOnHost(x: tf.Tensor2D | (() => tf.Tensor2D), values: Float32Array, n: number): StepResult {
    const lr = this.begin(x);
    return this.finish(this.host!.computeHost(values, n), lr);
  }

  private finish(values: Float32Array, lr: number): StepResult {
    const r = this.host?.finish(values, lr) ?? {
      loss: values[0]!,
      gradNorm: values[1]!,
      ok: values[2] === 1,
    };
    if (r.ok) this.applied++;
    else this.skipped++;
    return { loss: r.loss, gradNorm: r.gradNorm, skipped: !r.ok, step: this.applied, learningRate: lr };
  }

  private checkVariables(): void {
    const now = this.flow.trainableVariables();
    if (now.length !== this.vars.length || now.some((v, i) => v !== this.vars[i])) {
      throw new TrainerError(
        "the flow's trainable variables changed since the trainer was created; create a new Trainer",
      );
    }
  }

  private checkAlive(): void {
    if (this.disposed) throw new TrainerError('this trainer has been disposed; create a new one');
  }
}
