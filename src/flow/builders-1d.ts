import { createRng } from '../core/rng.js';
import { InvalidOptionError } from '../errors.js';
import { NormalizingFlow } from './normalizing-flow.js';
import { Beta } from './priors/beta.js';
import { Logistic } from './priors/logistic.js';
import { Uniform01 } from './priors/uniform.js';
import { MixtureCdf } from './transforms/mixture-cdf.js';
import type { Prior } from './types.js';

/** Priors `mixtureCdf1d` can pair with the mixture CDF. */
export const MIXTURE_1D_PRIORS = ['beta', 'uniform', 'logistic'] as const;
export type Mixture1dPrior = (typeof MIXTURE_1D_PRIORS)[number];

/** Options of `mixtureCdf1d`. */
export interface MixtureCdf1dOptions {
  /** Gaussian components of the mixture CDF. Default 4. */
  readonly components?: number;
  /**
   * Base distribution. `beta` and `uniform` live on (0, 1) and take the mixture CDF's (0, 1) output;
   * `logistic` lives on ℝ, so the mixture CDF then outputs logit z (see `MixtureCdfOutput`). Default `beta`.
   */
  readonly prior?: Mixture1dPrior;
  /** Beta α (only with `prior: 'beta'`). Default 2. */
  readonly alpha?: number;
  /** Beta β (only with `prior: 'beta'`). Default 5. */
  readonly beta?: number;
  /** Seed of the initial-mean jitter. Default 0. */
  readonly seed?: number;
  /** Range of the initial means, data units. Default [−3, 3]; `flow.initialize(x)` overrides it. */
  readonly initRange?: readonly [number, number];
  /** See `NormalizingFlowOptions.maxAbsInput`. Default 1e6. */
  readonly maxAbsInput?: number;
}

function buildPrior(name: Mixture1dPrior, o: MixtureCdf1dOptions): Prior {
  switch (name) {
    case 'beta':
      return new Beta({ dim: 1, alpha: o.alpha ?? 2, beta: o.beta ?? 5 });
    case 'uniform':
      return new Uniform01({ dim: 1 });
    case 'logistic':
      return new Logistic({ dim: 1 });
  }
}

/**
 * The design's 1-D density model: one `MixtureCdf` ("GMMFlow") into a fixed prior. With the default
 * Beta(2, 5) prior, log p(x) = log Beta(F(x); 2, 5) + log F'(x).
 */
export function mixtureCdf1d(options: MixtureCdf1dOptions = {}): NormalizingFlow {
  const name = options.prior ?? 'beta';
  if (!MIXTURE_1D_PRIORS.includes(name)) {
    throw new InvalidOptionError(
      `mixtureCdf1d: prior must be one of ${MIXTURE_1D_PRIORS.join(', ')}, got ${String(name)}`,
    );
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed))
    throw new InvalidOptionError(`mixtureCdf1d: seed must be an integer, got ${seed}`);
  const prior = buildPrior(name, options);
  try {
    const flow = new MixtureCdf({
      dim: 1,
      components: options.components ?? 4,
      output: name === 'logistic' ? 'logit' : 'unit',
      rng: createRng(seed),
      ...(options.initRange === undefined ? {} : { initRange: options.initRange }),
    });
    return new NormalizingFlow(prior, [flow], { maxAbsInput: options.maxAbsInput ?? 1e6 });
  } catch (err) {
    prior.dispose();
    throw err;
  }
}
