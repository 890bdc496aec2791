import { SerializationError } from '../errors.js';
import type { ModuleReviver } from './normalizing-flow.js';
import { Beta } from './priors/beta.js';
import { DiagNormal } from './priors/diag-normal.js';
import { Logistic } from './priors/logistic.js';
import { StandardNormal } from './priors/standard-normal.js';
import { Uniform01 } from './priors/uniform.js';
import { ActNorm } from './transforms/actnorm.js';
import { ElementwiseAffine } from './transforms/affine.js';
import { AffineCoupling } from './transforms/affine-coupling.js';
import { LULinear } from './transforms/lu-linear.js';
import { MaskedAutoregressive } from './transforms/maf.js';
import { MixtureCdf } from './transforms/mixture-cdf.js';
import { Permutation } from './transforms/permutation.js';
import { Logit, Sigmoid } from './transforms/sigmoid.js';
import { SplineCoupling } from './transforms/spline-coupling.js';
import type { Bijector, ModuleSpec, Prior } from './types.js';

/**
 * Every serializable module, by kind. An explicit table (rather than self-registration on import) keeps
 * deserialization free of import-order side effects.
 */
const MODULES: Readonly<Record<string, (spec: ModuleSpec) => Bijector | Prior>> = {
  [ElementwiseAffine.kind]: (s) => ElementwiseAffine.fromJSON(s),
  [ActNorm.kind]: (s) => ActNorm.fromJSON(s),
  [Sigmoid.kind]: (s) => Sigmoid.fromJSON(s),
  [Logit.kind]: (s) => Logit.fromJSON(s),
  [Permutation.kind]: (s) => Permutation.fromJSON(s),
  [LULinear.kind]: (s) => LULinear.fromJSON(s),
  [AffineCoupling.kind]: (s) => AffineCoupling.fromJSON(s),
  [MaskedAutoregressive.kind]: (s) => MaskedAutoregressive.fromJSON(s),
  [SplineCoupling.kind]: (s) => SplineCoupling.fromJSON(s),
  [MixtureCdf.kind]: (s) => MixtureCdf.fromJSON(s),
  [StandardNormal.kind]: (s) => StandardNormal.fromJSON(s),
  [DiagNormal.kind]: (s) => DiagNormal.fromJSON(s),
  [Beta.kind]: (s) => Beta.fromJSON(s),
  [Uniform01.kind]: (s) => Uniform01.fromJSON(s),
  [Logistic.kind]: (s) => Logistic.fromJSON(s),
};

/** Kinds `reviveModule` understands. */
export const MODULE_KINDS: readonly string[] = Object.keys(MODULES);

/** Rebuilds any built-in transform or prior from its `toJSON()` spec. */
export const reviveModule: ModuleReviver = (spec) => {
  if (spec === null || typeof spec !== 'object' || typeof spec.kind !== 'string') {
    throw new SerializationError('module spec lacks a string "kind"');
  }
  const revive = MODULES[spec.kind];
  if (revive === undefined) {
    throw new SerializationError(
      `unknown module kind "${spec.kind}"; known kinds: ${MODULE_KINDS.join(', ')}`,
      {
        context: { kind: spec.kind },
      },
    );
  }
  return revive(spec);
};
