import type { BatchDetector } from '../core/detector.js';
import type { FeatureEvent, ScoredEvent } from '../core/records.js';
import type { Rng } from '../core/rng.js';
import { InvalidOptionError } from '../errors.js';
import type { NormalizingFlow } from '../flow/normalizing-flow.js';
import type { Trainer } from '../flow/trainer.js';
import { captureState, type OnlineDetectorState, restoreState } from './detector-state.js';
import { DetectorBusyError, type OnlineDetectorOptions } from './online-detector-options.js';
import { copyRow, type Reservoir } from './reservoir.js';
import type { Standardiser } from './standardiser.js';
import type { ThresholdPolicy } from './thresholds/types.js';

export type { OnlineDetectorState } from './detector-state.js';

export {
  DetectorBusyError,
  type DetectorObserver,
  type OnlineDetectorOptions,
} from './online-detector-options.js';

/**
 * Prequential online detector: each micro-batch is first scored with the current model and threshold,
 * then learned from. Log-likelihoods are densities in original feature units (nats): the flow scores
 * standardised rows and the standardiser's log-Jacobian is added, so scores stay comparable as the
 * model updates. With `score: 'latent'` the `logLikelihood` field is log p_prior(f(x)) instead (no
 * log-determinant): a tail-ness score in the latent space.
 *
 * Warm-up: the first `warmupEvents` events train the model (and, in 'freeze' mode, fit the standardiser)
 * without alerting, and are emitted with status 'warming'. The threshold learns only from events after
 * warm-up (scores of a half-trained model would drag an adaptive threshold far down for a whole window),
 * so events stay 'warming' until the threshold policy also has its minimum observations. Events the policy flags are learned
 * by it only within its tail budget, and are kept out of model training unless `trainOnAnomalies`.
 */
export class OnlineDetector implements BatchDetector {
  private readonly o: OnlineDetectorOptions;
  private readonly dim: number;
  private readonly replayFraction: number;
  private seen = 0;
  private busy = false;
  private model: { flow: NormalizingFlow; trainer: Trainer };
  private random: Rng;

  constructor(options: OnlineDetectorOptions) {
    const { flow, standardiser, warmupEvents, stepsPerBatch, batchSize } = options;
    if (standardiser.dim !== flow.dim) {
      throw new InvalidOptionError(
        `standardiser dim ${standardiser.dim} does not match flow dim ${flow.dim}`,
      );
    }
    if (!Number.isInteger(warmupEvents) || warmupEvents < 0) {
      throw new InvalidOptionError(`warmupEvents must be an integer >= 0, got ${warmupEvents}`);
    }
    if (!Number.isInteger(stepsPerBatch) || stepsPerBatch < 0) {
      throw new InvalidOptionError(`stepsPerBatch must be an integer >= 0, got ${stepsPerBatch}`);
    }
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new InvalidOptionError(`batchSize must be an integer >= 1, got ${batchSize}`);
    }
    const f = options.replayFraction ?? 0.5;
    if (!(f >= 0 && f < 1)) throw new InvalidOptionError(`replayFraction must be in [0, 1), got ${f}`);
    if (options.reservoir && options.reservoir.dim !== flow.dim) {
      throw new InvalidOptionError(
        `reservoir dim ${options.reservoir.dim} does not match flow dim ${flow.dim}`,
      );
    }
    this.o = options;
    this.dim = flow.dim;
    this.replayFraction = options.reservoir ? f : 0;
    this.model = { flow, trainer: options.trainer };
    this.random = options.rng;
  }

  /** The current flow (replaced by `setState`). */
  get flow(): NormalizingFlow {
    return this.model.flow;
  }

  /** The current trainer (replaced by `setState`). */
  get trainer(): Trainer {
    return this.model.trainer;
  }

  /** The current random source (replaced by `setState`). */
  get rng(): Rng {
    return this.random;
  }

  get standardiser(): Standardiser {
    return this.o.standardiser;
  }

  get threshold(): ThresholdPolicy {
    return this.o.threshold;
  }

  get reservoir(): Reservoir | undefined {
    return this.o.reservoir;
  }

  /** Events processed so far. */
  get eventsSeen(): number {
    return this.seen;
  }

  /** Model version: optimizer updates applied so far. */
  get modelVersion(): number {
    return this.model.trainer.stepCount;
  }

  /** Restores the event counter (checkpoints). */
  setEventsSeen(n: number): void {
    this.seen = n;
  }

  /**
   * Everything that determines future behaviour, as JSON: flow weights and optimizer state, standardiser,
   * threshold, reservoir, RNG state and the event counter. `setState(getState())` on a detector built from
   * the same config continues exactly as this one would. Not allowed while `process` is running.
   */
  getState(options: { readonly withReservoir?: boolean } = {}): OnlineDetectorState {
    this.checkIdle('getState');
    const { standardiser, threshold } = this.o;
    // Without the reservoir (base snapshots for `adopt`), `reservoir` is null.
    const reservoir = options.withReservoir === false ? undefined : this.o.reservoir;
    const { explainer } = this.o;
    return captureState(
      { ...this.model, standardiser, threshold, reservoir, rng: this.random, explainer },
      this.seen,
    );
  }

  /**
   * Starts from another detector's state (weights, optimizer, standardiser, threshold, event count) while
   * keeping this detector's own random stream and an empty reservoir: how a new per-key model copies the
   * global one. `base` may come from `getState({ withReservoir: false })`.
   */
  adopt(base: OnlineDetectorState): void {
    const r = this.o.reservoir;
    const reservoir = r ? { capacity: r.capacity, dim: r.dim, count: 0, seen: 0, rows: [] } : null;
    this.setState({ ...base, reservoir, rng: this.random.getState() });
  }

  /**
   * Restores `getState` output: builds a new flow and trainer from it (the old ones are disposed) and
   * restores the other parts in place. All or nothing: on a `SerializationError` (malformed state, other
   * architecture, feature count or policy) the detector is unchanged.
   */
  setState(state: unknown): void {
    this.checkIdle('setState');
    const { createTrainer, standardiser, threshold, reservoir } = this.o;
    if (createTrainer === undefined) {
      throw new InvalidOptionError('setState needs the createTrainer option (see createDetector)');
    }
    const restored = restoreState(state, {
      dim: this.dim,
      createTrainer,
      standardiser,
      threshold,
      reservoir,
    });
    const old = this.model;
    this.model = { flow: restored.flow, trainer: restored.trainer };
    this.random = restored.rng;
    this.seen = restored.eventsSeen;
    this.o.explainer?.restoreCache(restored.flow, restored.explain);
    old.trainer.dispose();
    old.flow.dispose();
  }

  /** Frees the current flow's and trainer's tensors. */
  dispose(): void {
    this.model.trainer.dispose();
    this.model.flow.dispose();
  }

  async process(batch: readonly FeatureEvent[]): Promise<readonly ScoredEvent[]> {
    const n = batch.length;
    if (n === 0) return [];
    this.checkIdle('process');
    this.busy = true;
    try {
      return await this.processBatch(batch, n);
    } finally {
      this.busy = false;
    }
  }

  private checkIdle(what: string): void {
    if (this.busy) {
      throw new DetectorBusyError(`${what} called while a batch is being processed; await process() first`);
    }
  }

  private async processBatch(batch: readonly FeatureEvent[], n: number): Promise<readonly ScoredEvent[]> {
    const raw = this.stack(batch);
    const { standardiser } = this.o;
    // 'freeze' mode stops by itself after `freezeAfter` (= warm-up) rows; 'ema' keeps adapting.
    if (!standardiser.frozen) standardiser.update(raw, n, this.dim);
    const x = standardiser.transform(raw, n, this.dim);
    const logLik = await this.score(x, n, standardiser.logDetJacobian());
    const modelVersion = this.modelVersion;
    const decided = this.decide(batch, logLik, modelVersion);
    const out = this.o.explainer
      ? await this.o.explainer.annotate(this.flow, standardiser, decided, raw, (rows, m) =>
          this.model.trainer.scoreRows(rows, m, this.o.score),
        )
      : decided;
    const trainRows = this.selectTrainingRows(x, out);
    await this.learn(trainRows, n);
    this.seen += n;
    return out;
  }

  private stack(batch: readonly FeatureEvent[]): Float32Array {
    const rows = new Float32Array(batch.length * this.dim);
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      if (e.features.length !== this.dim) {
        throw new InvalidOptionError(
          `event has ${e.features.length} features, the model expects ${this.dim}`,
        );
      }
      rows.set(e.features, i * this.dim);
    }
    return rows;
  }

  /** log p(x) in original units, or `latent`'s log p_prior(f(x)) (no Jacobian at all); one readback. */
  private async score(x: Float32Array, n: number, logJac: number): Promise<Float32Array> {
    const v = await this.model.trainer.scoreRows(x, n, this.o.score);
    if (this.o.score === 'latent') return v;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = v[i]! + logJac;
    return out;
  }

  private decide(batch: readonly FeatureEvent[], logLik: Float32Array, modelVersion: number): ScoredEvent[] {
    const { threshold } = this.o;
    const decision = threshold.decide(logLik);
    const learn: number[] = [];
    const learnFlags: boolean[] = [];
    const out: ScoredEvent[] = [];
    const calibrateFrom = this.o.warmupEvents;
    let anomalies = 0;
    let warmingCount = 0;
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      const index = this.seen + i;
      const warming = index < this.o.warmupEvents || !decision.ready;
      const isAnomaly = !warming && decision.isAnomaly[i] === true;
      if (index >= calibrateFrom) {
        // The policy learns flagged events only within its tail budget (see AdaptiveThreshold.update).
        learn.push(logLik[i]!);
        learnFlags.push(decision.isAnomaly[i] === true);
      }
      if (isAnomaly) anomalies++;
      if (warming) warmingCount++;
      out.push({
        ref: e.ref,
        timestamp: e.timestamp,
        key: e.key,
        status: warming ? 'warming' : 'scored',
        logLikelihood: logLik[i]!,
        anomalyScore: decision.anomalyScore[i] ?? 0,
        threshold: decision.threshold,
        isAnomaly,
        modelVersion,
      });
    }
    threshold.update(learn, learnFlags);
    this.o.observer?.onBatchScored?.({
      size: out.length,
      warming: warmingCount,
      anomalies,
      threshold: decision.threshold,
    });
    return out;
  }

  /** Standardised rows to learn from: every row (decoding guarantees finite features), minus anomalies unless configured otherwise, minus trimmed rows. */
  private selectTrainingRows(x: Float32Array, scored: readonly ScoredEvent[]): Float32Array {
    const d = this.dim;
    const keep: number[] = [];
    const trim = this.o.trimTail ?? 0;
    for (let i = 0; i < scored.length; i++) {
      const s = scored[i]!;
      if (s.isAnomaly && this.o.trainOnAnomalies !== true) continue;
      if (trim > 0 && s.status === 'scored' && 1 - s.anomalyScore < trim) continue;
      keep.push(i);
    }
    const rows = new Float32Array(keep.length * d);
    for (let j = 0; j < keep.length; j++) copyRow(x, keep[j]!, rows, j, d);
    return rows;
  }

  /** Optimizer steps on `rows` (of a batch of `n` events) when due per `trainEvery`; rows join the reservoir. */
  private async learn(rows: Float32Array, n: number): Promise<void> {
    const d = this.dim;
    const nNew = rows.length / d;
    const { reservoir, stepsPerBatch, trainEvery = 1 } = this.o;
    const due =
      trainEvery <= 1 || Math.floor((this.seen + n) / trainEvery) > Math.floor(this.seen / trainEvery);
    const { trainer } = this.model;
    const rng = this.random;
    const dq = this.o.dequantiser;
    dq?.observe(rows);
    // The learning budget may skip the steps (never in warm-up); the rows still join the reservoir.
    const warming = this.seen < this.o.warmupEvents;
    const train = due && stepsPerBatch > 0 && nNew > 0 && (this.o.budget?.admit(nNew, warming) ?? true);
    for (let s = 0; s < stepsPerBatch && train; s++) {
      const picked = this.minibatch(rows, nNew);
      const batch = dq ? dq.apply(picked, rng) : picked;
      const result = await trainer.stepRows(batch, batch.length / d);
      this.o.observer?.onTrainStep?.(result);
    }
    if (reservoir) for (let i = 0; i < nNew; i++) reservoir.offer(rows, i, rng);
  }

  /** New rows (subsampled to the step size) plus reservoir rows in the configured proportion. */
  private minibatch(rows: Float32Array, nNew: number): Float32Array {
    const d = this.dim;
    const { reservoir, batchSize } = this.o;
    const rng = this.random;
    const f = reservoir && reservoir.size > 0 ? this.replayFraction : 0;
    const kNew = Math.max(1, Math.min(nNew, Math.round(batchSize * (1 - f))));
    const kOld = f > 0 ? Math.round((kNew * f) / (1 - f)) : 0;
    const fresh = kNew === nNew ? rows : pickRows(rows, nNew, kNew, d, rng);
    if (kOld === 0 || !reservoir) return fresh;
    const old = reservoir.sample(kOld, rng);
    const out = new Float32Array(fresh.length + old.length);
    out.set(fresh, 0);
    out.set(old, fresh.length);
    return out;
  }
}

/** `k` of `n` rows without replacement (partial Fisher–Yates over indices). */
function pickRows(rows: Float32Array, n: number, k: number, d: number, rng: Rng): Float32Array {
  const idx = Array.from({ length: n }, (_, i) => i);
  const out = new Float32Array(k * d);
  for (let j = 0; j < k; j++) {
    const r = j + Math.floor(rng.uniform() * (n - j));
    const i = idx[r]!;
    idx[r] = idx[j]!;
    idx[j] = i;
    copyRow(rows, i, out, j, d);
  }
  return out;
}
