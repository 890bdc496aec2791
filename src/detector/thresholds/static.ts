import { z } from 'zod';
import { InvalidOptionError, SerializationError } from '../../errors.js';
import type { StaticThresholdState, ThresholdDecision, ThresholdPolicy } from './types.js';

/** Options of `StaticThreshold`. */
export interface StaticThresholdOptions {
  /** Alert when log p(x) < this, in nats. */
  readonly logLikelihood: number;
  /** Softness of the anomaly score, in nats per e-fold of the score's odds (default 1). */
  readonly scale?: number;
}

const stateSchema = z.strictObject({
  policy: z.literal('static'),
  version: z.literal(1),
  logLikelihood: z.number(),
  scale: z.number().positive(),
});

/**
 * Fixed log-likelihood threshold t: an event is anomalous when log p(x) < t.
 *
 * anomalyScore = σ((t − log p(x)) / scale), the logistic of the margin below the threshold: exactly 0.5 at
 * the threshold (so `isAnomaly` ⇔ score > 0.5), → 1 far below it and → 0 far above. It orders events
 * like the log-likelihood does but is not a probability; use the pvalue policy for calibrated scores.
 */
export class StaticThreshold implements ThresholdPolicy {
  readonly policy = 'static';
  readonly observations = 0;
  private logLikelihood: number;
  private scale: number;

  constructor(options: StaticThresholdOptions) {
    const scale = options.scale ?? 1;
    if (!Number.isFinite(options.logLikelihood)) {
      throw new InvalidOptionError(
        `logLikelihood must be a finite number of nats, got ${options.logLikelihood}`,
      );
    }
    if (!(Number.isFinite(scale) && scale > 0)) {
      throw new InvalidOptionError(`scale must be a positive number of nats, got ${scale}`);
    }
    this.logLikelihood = options.logLikelihood;
    this.scale = scale;
  }

  decide(logLikelihoods: ArrayLike<number>): ThresholdDecision {
    const t = this.logLikelihood;
    const anomalyScore: number[] = [];
    const isAnomaly: boolean[] = [];
    for (let i = 0; i < logLikelihoods.length; i++) {
      const x = logLikelihoods[i]!;
      const bad = Number.isNaN(x) || x < t;
      anomalyScore.push(Number.isNaN(x) ? 1 : logistic((t - x) / this.scale));
      isAnomaly.push(bad);
    }
    return { threshold: t, ready: true, anomalyScore, isAnomaly };
  }

  /** A static threshold learns nothing. */
  update(_logLikelihoods: ArrayLike<number>, _isAnomaly?: readonly boolean[]): void {}

  getState(): StaticThresholdState {
    return { policy: 'static', version: 1, logLikelihood: this.logLikelihood, scale: this.scale };
  }

  setState(state: unknown): void {
    const parsed = stateSchema.safeParse(state);
    if (!parsed.success) {
      throw new SerializationError(`invalid static threshold state: ${z.prettifyError(parsed.error)}`);
    }
    this.logLikelihood = parsed.data.logLikelihood;
    this.scale = parsed.data.scale;
  }
}

/** Numerically stable logistic function; σ(±∞) = 1 / 0. */
function logistic(u: number): number {
  if (u >= 0) return 1 / (1 + Math.exp(-u));
  const e = Math.exp(u);
  return e / (1 + e);
}
