/**
 * The conditional time-series detector (`timeseries.conditional.enabled`): per event, the conditional
 * surprise u = −log p(x_t | context) (`ConditionalSurprise`), then the key's `SurpriseScorer`; the
 * event is an anomaly when that score reaches `timeseries.scoring.threshold`. It replaces the flow of the
 * joint lag vector entirely. Not checkpointed: the job refuses it together with `checkpoint.dir`.
 */
import type { BatchDetector } from '../../core/detector.js';
import type { FeatureEvent, ScoredEvent } from '../../core/records.js';
import { InvalidOptionError } from '../../errors.js';
import { type ConditionalOptions, ConditionalSurprise } from './conditional.js';
import { type SurpriseScoreOptions, SurpriseScorer } from './surprise-score.js';

/** Surprises a key's p-value needs before it scores above 0. */
export const MIN_SURPRISE_HISTORY = 100;
/** Weight of each value in the fast running mean of the context (≈ the last 10 values). */
export const FAST_ALPHA = 0.1;

/** The config the conditional detector reads (`AppConfig` satisfies it). */
export interface ConditionalConfigSlice {
  readonly model: { readonly seed: number };
  readonly training: {
    readonly learningRate: number;
    readonly stepsPerBatch: number;
    readonly batchSize: number;
    readonly replayReservoir: { readonly size: number };
  };
  readonly standardiser: { readonly emaAlpha: number };
  readonly warmup: { readonly events: number };
  readonly threshold: { readonly policy: string } | { readonly policy: string; readonly window: number };
  readonly timeseries: {
    readonly lags: number;
    readonly timeOfDay: boolean;
    readonly conditional: { readonly enabled: boolean; readonly hidden: number; readonly components: number };
    readonly scoring: {
      readonly enabled: boolean;
      readonly score: 'pvalue' | 'likelihood';
      readonly rangeTolerance: number;
      readonly threshold: number;
      readonly average: number;
    };
  };
}

/** Model and scoring options of the conditional mode from the config; null when it is off. */
export function conditionalOptionsFromConfig(
  c: ConditionalConfigSlice,
): { model: ConditionalOptions; scoring: SurpriseScoreOptions; threshold: number } | null {
  const t = c.timeseries;
  if (!t.conditional.enabled) return null;
  if (!t.scoring.enabled) {
    throw new InvalidOptionError(
      'timeseries.conditional needs timeseries.scoring.enabled: true (its anomalyScore is the per-series score)',
    );
  }
  const model: ConditionalOptions = {
    lags: t.lags,
    slowAlpha: c.standardiser.emaAlpha,
    fastAlpha: FAST_ALPHA,
    timeOfDay: t.timeOfDay,
    hidden: t.conditional.hidden,
    components: t.conditional.components,
    learningRate: c.training.learningRate,
    stepsPerBatch: c.training.stepsPerBatch,
    batchSize: c.training.batchSize,
    memory: Math.max(1, c.training.replayReservoir.size),
    warmup: c.warmup.events,
    seed: c.model.seed,
  };
  const window = 'window' in c.threshold ? c.threshold.window : 2000;
  const scoring: SurpriseScoreOptions = {
    score: t.scoring.score,
    window,
    minHistory: Math.min(MIN_SURPRISE_HISTORY, window),
    average: t.scoring.average,
    rangeTolerance: t.scoring.rangeTolerance,
  };
  return { model, scoring, threshold: t.scoring.threshold };
}

/** Scores then learns each micro-batch; deterministic for a seed and input order. */
export class ConditionalDetector implements BatchDetector {
  private readonly model: ConditionalSurprise;
  private readonly scorers = new Map<string | null, SurpriseScorer>();
  private batches = 0;

  constructor(
    model: ConditionalOptions,
    readonly scoring: SurpriseScoreOptions,
    readonly threshold: number,
  ) {
    if (!(threshold >= 0 && threshold <= 1)) {
      throw new InvalidOptionError(`threshold must be an anomaly score in [0, 1], got ${threshold}`);
    }
    new SurpriseScorer(scoring); // validates the scoring options up front
    this.model = new ConditionalSurprise(model);
  }

  /** Training rounds so far (the `modelVersion` of the next batch's events). */
  get modelVersion(): number {
    return this.batches;
  }

  async process(batch: readonly FeatureEvent[]): Promise<readonly ScoredEvent[]> {
    for (const e of batch) {
      if (e.features.length !== 1) {
        throw new InvalidOptionError(
          `time-series mode expects events with one feature, got ${e.features.length}; set features.fields to one field`,
        );
      }
    }
    const modelVersion = this.batches;
    const u = this.model.process(
      batch.map((e) => ({ key: e.key, value: e.features[0]!, timestamp: e.timestamp })),
    );
    this.batches++;
    return batch.map((e, i): ScoredEvent => {
      let scorer = this.scorers.get(e.key);
      if (scorer === undefined) {
        scorer = new SurpriseScorer(this.scoring);
        this.scorers.set(e.key, scorer);
      }
      const scored = Number.isFinite(u[i]!);
      const anomalyScore = scorer.next(e.features[0]!, u[i]!);
      return {
        ref: e.ref,
        timestamp: e.timestamp,
        key: e.key,
        status: scored ? 'scored' : 'warming',
        logLikelihood: scored ? -u[i]! : Number.NaN,
        anomalyScore,
        threshold: this.threshold,
        isAnomaly: scored && anomalyScore >= this.threshold,
        modelVersion,
      };
    });
  }
}
