/**
 * Conditional surprise of the time-series mode: u_t = −log p(x_t | context), the density of the next
 * value given its recent past (`SeriesContext`), from one `MixtureDensityNet` shared by every key. Unlike
 * the joint density of a lag vector, one odd value is surprising once (not again in the next k − 1
 * vectors), and a rare context does not make an ordinary next value look anomalous. Prequential: each
 * micro-batch is scored first, then learned.
 */
import { createRng, type Rng } from '../../core/rng.js';
import { InvalidOptionError } from '../../errors.js';
import { type ContextOptions, contextLength, MAX_DAY_POINTS, SeriesContext } from './context.js';
import { MixtureDensityNet, mdnOptionProblems } from './mdn.js';

/** Options of `ConditionalSurprise`. */
export interface ConditionalOptions extends ContextOptions {
  /** Hidden tanh units of the conditioner. */
  readonly hidden: number;
  /** Gaussian components of the conditional density. */
  readonly components: number;
  /**
   * Of the components, how many are centred on the change over a day instead of the step (needs
   * `daily`; absent = 0): a step expert and a seasonal expert mixed by the context (`MixtureDensityNet`).
   */
  readonly seasonal?: number;
  readonly learningRate: number;
  /** AdamW steps after each micro-batch. */
  readonly stepsPerBatch: number;
  /** Rows per step: the new rows, topped up from the recent ones. */
  readonly batchSize: number;
  /** Recent (context, target) rows kept for training (a ring, so the model follows regime changes). */
  readonly memory: number;
  /** Values of a key before its surprise is reported (the model and its scale settle first). */
  readonly warmup: number;
  readonly seed: number;
}

/** Defaults (docs/evaluation.md, "NAB protocol", says how they were chosen). */
export const DEFAULT_CONDITIONAL_OPTIONS: ConditionalOptions = Object.freeze({
  lags: 4,
  slowAlpha: 0.002,
  fastAlpha: 0.1,
  timeOfDay: false,
  hidden: 24,
  components: 3,
  learningRate: 0.003,
  stepsPerBatch: 4,
  batchSize: 64,
  memory: 2000,
  warmup: 300,
  seed: 3,
});

/** Problems of `o`, one message each (empty when valid). */
export function conditionalOptionProblems(o: ConditionalOptions): string[] {
  const problems = mdnOptionProblems({ ...o, inputs: contextLength(o), clipNorm: 5 });
  const ints: [keyof ConditionalOptions, number][] = [
    ['lags', 1],
    ['stepsPerBatch', 0],
    ['batchSize', 1],
    ['memory', 1],
    ['warmup', 0],
  ];
  for (const [k, min] of ints) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      problems.push(`${k} must be an integer >= ${min}, got ${String(v)}`);
  }
  for (const s of o.scales ?? []) {
    if (!Number.isInteger(s) || s < 1 || s > MAX_DAY_POINTS)
      problems.push(`scales must be integers in [1, ${MAX_DAY_POINTS}], got ${s}`);
  }
  if ((o.seasonal ?? 0) > 0 && o.daily !== true) problems.push('seasonal components need daily: true');
  if (o.seasonalTarget === true && o.daily !== true) problems.push('seasonalTarget needs daily: true');
  for (const k of ['slowAlpha', 'fastAlpha'] as const) {
    if (!(o[k] > 0 && o[k] <= 1)) problems.push(`${k} must be in (0, 1], got ${o[k]}`);
  }
  return problems;
}

/** One value of a keyed series. */
export interface SeriesPoint {
  readonly key: string | null;
  readonly value: number;
  /** Epoch ms. */
  readonly timestamp: number;
}

/** Scores and learns keyed series values; deterministic for a given seed and input order. */
export class ConditionalSurprise {
  readonly options: ConditionalOptions;
  private readonly net: MixtureDensityNet;
  private readonly rng: Rng;
  private readonly series = new Map<string | null, { context: SeriesContext; seen: number }>();
  private readonly contexts: Float64Array[] = [];
  private readonly targets: number[] = [];
  private readonly alts: number[] = [];
  private head = 0;

  constructor(options: ConditionalOptions) {
    const problems = conditionalOptionProblems(options);
    if (problems.length > 0) throw new InvalidOptionError(`conditional model: ${problems.join('; ')}`);
    this.options = { ...options };
    this.rng = createRng(options.seed);
    this.net = new MixtureDensityNet({ ...options, inputs: contextLength(options), clipNorm: 5 }, this.rng);
  }

  /**
   * Surprise −log p(x_t | context) in nats of each point (in input order; NaN while its key warms up),
   * then one training round on the batch.
   */
  process(batch: readonly SeriesPoint[]): number[] {
    const fresh: number[] = [];
    const out = batch.map((p) => {
      let s = this.series.get(p.key);
      if (s === undefined) {
        s = { context: new SeriesContext(this.options), seen: 0 };
        this.series.set(p.key, s);
      }
      s.seen++;
      const step = s.context.next(p.value, p.timestamp);
      if (step.context === null || !Number.isFinite(p.value)) return Number.NaN;
      const u = step.logScale - this.net.logProb(step.context, step.target, step.alt);
      fresh.push(this.remember(step.context, step.target, step.alt));
      return s.seen > this.options.warmup ? u : Number.NaN;
    });
    this.train(fresh);
    return out;
  }

  /** Stores a row in the ring; returns its index. */
  private remember(context: Float64Array, target: number, alt: number): number {
    if (this.contexts.length < this.options.memory) {
      this.contexts.push(context);
      this.targets.push(target);
      this.alts.push(alt);
      return this.contexts.length - 1;
    }
    const i = this.head;
    this.contexts[i] = context;
    this.targets[i] = target;
    this.alts[i] = alt;
    this.head = (this.head + 1) % this.options.memory;
    return i;
  }

  private train(fresh: readonly number[]): void {
    const n = this.contexts.length;
    if (n === 0) return;
    const { stepsPerBatch, batchSize } = this.options;
    for (let s = 0; s < stepsPerBatch; s++) {
      const idx = fresh.slice(0, batchSize);
      while (idx.length < Math.min(batchSize, n)) idx.push(Math.floor(this.rng.uniform() * n));
      this.net.step(this.contexts, this.targets, idx, this.alts);
    }
  }
}
