import { createRng } from '../core/rng.js';
import { InvalidOptionError } from '../errors.js';
import {
  ACTIVATIONS,
  type Activation,
  checkChoice,
  checkHidden,
  checkInt,
  checkRange,
} from './nn-options.js';
import { NormalizingFlow } from './normalizing-flow.js';
import { Logistic } from './priors/logistic.js';
import { AffineCoupling, DEFAULT_AFFINE_CLAMP } from './transforms/affine-coupling.js';
import { MixtureCdf, type MixtureFamily } from './transforms/mixture-cdf.js';
import { Permutation } from './transforms/permutation.js';
import type { Bijector } from './types.js';

/** Options of `marginalCouplingFlow`. */
export interface MarginalCouplingOptions {
  /** Data dimensionality (≥ 1). */
  readonly dim: number;
  /** Gaussian components of the per-feature mixture CDF (the marginal layer). Default 8. */
  readonly components?: number;
  /** The marginal layer's component family (`MixtureCdfOptions.family`). Default 'gaussian'. */
  readonly family?: MixtureFamily;
  /** Affine couplings after the marginal layer (0 = marginals only). Default 4. */
  readonly layers?: number;
  /** Conditioner hidden widths; a number n means [n, n]. Default 64. */
  readonly hidden?: number | readonly number[];
  /** Conditioner activation. Default 'tanh'. */
  readonly activation?: Activation;
  /** Soft clamp of each coupling's log-scale. Default 3. */
  readonly clamp?: number;
  /** Seed of the weight initialisation and of the feature shuffles. Default 0. */
  readonly seed?: number;
  /** See `NormalizingFlowOptions.maxAbsInput`. Default 1e6. */
  readonly maxAbsInput?: number;
}

function fail(message: string): never {
  throw new InvalidOptionError(`marginalCouplingFlow: ${message}`);
}

/** A seeded Fisher–Yates shuffle of 0 … dim − 1. */
function shuffled(dim: number, next: () => number): number[] {
  const perm = Array.from({ length: dim }, (_, i) => i);
  for (let i = dim - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [perm[i], perm[j]] = [perm[j] as number, perm[i] as number];
  }
  return perm;
}

/**
 * The joint-density default of config/tabular.yaml: a per-feature mixture CDF in logit output (the
 * marginal layer: each feature mapped to a Logistic variable through its own learned CDF), then `layers`
 * affine couplings that model the dependence between the marginal-uniformised features, into a Logistic
 * prior. The couplings start as the identity, so a new flow is exactly the independent-marginals model
 * (`model.type: mixture-cdf`) and training only adds what the marginals miss (a copula, in effect).
 * Couplings alternate parity; from dim ≥ 3 a seeded feature shuffle sits before every second coupling
 * so that every pair of features meets in some conditioner.
 */
export function marginalCouplingFlow(o: MarginalCouplingOptions): NormalizingFlow {
  if (o === null || typeof o !== 'object') fail('options must be an object with at least `dim`');
  const dim = checkInt('dim', o.dim, 1, fail);
  const components = checkInt('components', o.components, 1, fail, 8);
  const layers = checkInt('layers', o.layers, 0, fail, 4);
  const hidden = checkHidden(o.hidden, fail, [64, 64]);
  const activation = checkChoice('activation', o.activation, ACTIVATIONS, fail, 'tanh');
  const clamp = checkRange('clamp', o.clamp, 0, 1e3, fail, DEFAULT_AFFINE_CLAMP);
  const seed = o.seed ?? 0;
  if (!Number.isSafeInteger(seed)) fail(`seed must be an integer, got ${String(o.seed)}`);
  const rng = createRng(seed);
  const flows: Bijector[] = [];
  try {
    flows.push(new MixtureCdf({ dim, components, family: o.family, output: 'logit', rng }));
    for (let i = 0; i < layers; i++) {
      if (dim >= 3 && i % 2 === 0 && i > 0) {
        flows.push(new Permutation({ perm: shuffled(dim, () => rng.uniform()) }));
      }
      flows.push(new AffineCoupling({ dim, hidden, activation, clamp, rng, parity: i % 2 === 0 ? 0 : 1 }));
    }
    return new NormalizingFlow(new Logistic({ dim }), flows, { maxAbsInput: o.maxAbsInput ?? 1e6 });
  } catch (err) {
    for (const f of flows) f.dispose();
    throw err;
  }
}
