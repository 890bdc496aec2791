import type { BatchDetector } from '../../core/detector.js';
import type { FeatureEvent, ScoredEvent } from '../../core/records.js';
import type { TimeSeriesFeaturizer } from './featurizer.js';

/**
 * A `BatchDetector` that builds time-series vectors for `inner`, one micro-batch at a time, so the
 * featurizer's state always matches the events the model has processed (consistent checkpoints).
 * `partial` events are not passed on: they come back as 'warming' with `logLikelihood` NaN (null in
 * JSON), `anomalyScore` 0 and the threshold of the batch, so every record is still accounted for.
 *
 * With `scoring.enabled`, every event's `anomalyScore` is instead its key's `SeriesScorer` score (state
 * kept per key in the featurizer, so it is checkpointed with the histories) and a scored event is an
 * anomaly when that score is ≥ `scoring.threshold`; `threshold` stays the inner policy's.
 */
export class TimeSeriesDetector implements BatchDetector {
  constructor(
    readonly featurizer: TimeSeriesFeaturizer,
    private readonly inner: BatchDetector & { readonly modelVersion?: number },
  ) {}

  async process(batch: readonly FeatureEvent[]): Promise<readonly ScoredEvent[]> {
    const built = batch.map((e) => this.featurizer.apply(e));
    const complete = built.filter((e) => e.partial !== true);
    const versionBefore = this.inner.modelVersion ?? 0;
    const scored = complete.length > 0 ? await this.inner.process(complete) : [];
    const threshold = scored[0]?.threshold ?? Number.NaN;
    const modelVersion = scored[0]?.modelVersion ?? versionBefore;
    let next = 0;
    const out = built.map((e): ScoredEvent => {
      if (e.partial !== true) return scored[next++]!;
      return {
        ref: e.ref,
        timestamp: e.timestamp,
        key: e.key,
        status: 'warming',
        logLikelihood: Number.NaN,
        anomalyScore: 0,
        threshold,
        isAnomaly: false,
        modelVersion,
      };
    });
    return this.featurizer.scoringEnabled ? this.rescore(batch, out) : out;
  }

  /** Replaces scores and verdicts by the per-key `SeriesScorer`'s, in event order. */
  private rescore(batch: readonly FeatureEvent[], out: readonly ScoredEvent[]): ScoredEvent[] {
    const level = this.featurizer.options.scoring!.threshold;
    return out.map((r, i) => {
      const scored = r.status === 'scored';
      const value = batch[i]!.features[0]!;
      const anomalyScore = this.featurizer.score(r.key, value, r.logLikelihood, r.anomalyScore, scored);
      return { ...r, anomalyScore, isAnomaly: scored && anomalyScore >= level };
    });
  }
}
