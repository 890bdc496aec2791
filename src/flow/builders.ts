import { createRng, type Rng } from '../core/rng.js';
import { InvalidOptionError } from '../errors.js';
import {
  ACTIVATIONS,
  type Activation,
  checkChoice,
  checkHidden,
  checkInt,
  checkRange,
  type Fail,
} from './nn-options.js';
import { NormalizingFlow } from './normalizing-flow.js';
import { StandardNormal } from './priors/standard-normal.js';
import { AffineCoupling, DEFAULT_AFFINE_CLAMP } from './transforms/affine-coupling.js';
import { DEFAULT_MAF_CLAMP, MaskedAutoregressive } from './transforms/maf.js';
import { SplineCoupling } from './transforms/spline-coupling.js';
import type { Bijector } from './types.js';

/**
 * Ready-made multi-dimensional flows: a stack of neural transforms into a standard-normal prior, with
 * alternating coupling masks (or autoregressive orders) so that every dimension is both transformed and
 * used as context. Every transform starts as the identity, so a new flow is N(0, I) until trained.
 */

/** Options shared by all builders. */
export interface FlowBuilderOptions {
  /** Data dimensionality (≥ 1). */
  readonly dim: number;
  /** Number of transforms in the stack (≥ 1). */
  readonly layers?: number;
  /** Conditioner hidden widths; a number n means [n, n]. Default 64. */
  readonly hidden?: number | readonly number[];
  /** Conditioner activation. Default: the transform's ('relu' for realNVP and maf, 'tanh' for splineFlow). */
  readonly activation?: Activation;
  /** Seed of the weight initialisation. Default 0. */
  readonly seed?: number;
  /** See `NormalizingFlowOptions.maxAbsInput`. Default 1e6. */
  readonly maxAbsInput?: number;
}

/** Options of `realNVP`. Default 8 layers (the size the 2-D toy tests validate). */
export interface RealNVPOptions extends FlowBuilderOptions {
  /** Soft clamp of each layer's log-scale. Default 3. */
  readonly clamp?: number;
}

/** Options of `maf`. Default 8 layers; each hidden width must be ≥ dim − 1. */
export interface MafOptions extends FlowBuilderOptions {
  /** Soft clamp of each layer's log-scale. Default 3. */
  readonly clamp?: number;
}

/** Options of `splineFlow`. Default 4 layers. */
export interface SplineFlowOptions extends FlowBuilderOptions {
  /** Spline bins per layer (≥ 2). Default 8. */
  readonly bins?: number;
  /** Spline interval [−bound, bound]; identity outside. Default 4. */
  readonly bound?: number;
}

/** Config-file form: a builder's options tagged with its `type`. */
export type FlowSpecOptions =
  | ({ readonly type: 'realnvp' } & RealNVPOptions)
  | ({ readonly type: 'maf' } & MafOptions)
  | ({ readonly type: 'spline' } & SplineFlowOptions);

/** The `type` values `buildFlow` accepts. */
export const FLOW_TYPES = ['realnvp', 'maf', 'spline'] as const;

const COMMON_KEYS = ['dim', 'layers', 'hidden', 'activation', 'seed', 'maxAbsInput'];
const EXTRA_KEYS: Readonly<Record<(typeof FLOW_TYPES)[number], readonly string[]>> = {
  realnvp: ['clamp'],
  maf: ['clamp'],
  spline: ['bins', 'bound'],
};

function failFor(builder: string): Fail {
  return (message) => {
    throw new InvalidOptionError(`${builder}: ${message}`);
  };
}

/** Validated common options. */
interface Common {
  readonly dim: number;
  readonly layers: number;
  readonly hidden: number[];
  readonly activation: Activation;
  readonly rng: Rng;
  readonly maxAbsInput: number;
}

function common(
  o: FlowBuilderOptions,
  defaultLayers: number,
  defaultActivation: Activation,
  fail: Fail,
): Common {
  if (o === null || typeof o !== 'object') fail('options must be an object with at least `dim`');
  const seed = o.seed ?? 0;
  if (!Number.isSafeInteger(seed)) fail(`seed must be an integer, got ${String(o.seed)}`);
  const maxAbsInput = o.maxAbsInput ?? 1e6;
  if (typeof maxAbsInput !== 'number' || !(maxAbsInput > 0)) {
    fail(`maxAbsInput must be a number > 0, got ${String(o.maxAbsInput)}`);
  }
  return {
    dim: checkInt('dim', o.dim, 1, fail),
    layers: checkInt('layers', o.layers, 1, fail, defaultLayers),
    hidden: checkHidden(o.hidden, fail, [64, 64]),
    activation: checkChoice('activation', o.activation, ACTIVATIONS, fail, defaultActivation),
    rng: createRng(seed),
    maxAbsInput,
  };
}

/** Builds `c.layers` transforms into a standard-normal flow, disposing the built ones if one fails. */
function assemble(c: Common, make: (i: number) => Bijector): NormalizingFlow {
  const flows: Bijector[] = [];
  try {
    for (let i = 0; i < c.layers; i++) flows.push(make(i));
    return new NormalizingFlow(new StandardNormal({ dim: c.dim }), flows, { maxAbsInput: c.maxAbsInput });
  } catch (err) {
    for (const f of flows) f.dispose();
    throw err;
  }
}

/** RealNVP: `layers` affine couplings with alternating masks (parity 0, 1, 0, …). */
export function realNVP(options: RealNVPOptions): NormalizingFlow {
  const fail = failFor('realNVP');
  const c = common(options, 8, 'relu', fail);
  const clamp = checkRange('clamp', options.clamp, 0, 1e3, fail, DEFAULT_AFFINE_CLAMP);
  const { dim, hidden, activation, rng } = c;
  return assemble(c, (i) => new AffineCoupling({ dim, hidden, activation, clamp, rng, parity: parity(i) }));
}

/** MAF: `layers` masked autoregressive transforms with alternating orders (natural, reversed, …). */
export function maf(options: MafOptions): NormalizingFlow {
  const fail = failFor('maf');
  const c = common(options, 8, 'relu', fail);
  const clamp = checkRange('clamp', options.clamp, 0, 1e3, fail, DEFAULT_MAF_CLAMP);
  const { dim, hidden, activation, rng } = c;
  if (hidden.some((h) => h < dim - 1)) {
    fail(`every hidden width must be ≥ dim − 1 = ${dim - 1}, got [${hidden.join(', ')}]; widen hidden`);
  }
  return assemble(c, (i) => {
    const order = i % 2 === 0 ? 'natural' : 'reversed';
    return new MaskedAutoregressive({ dim, hidden, activation, clamp, rng, order });
  });
}

/** Neural spline flow: `layers` rational-quadratic spline couplings with alternating masks. */
export function splineFlow(options: SplineFlowOptions): NormalizingFlow {
  const fail = failFor('splineFlow');
  const c = common(options, 4, 'tanh', fail);
  const bins = checkInt('bins', options.bins, 2, fail, 8);
  const bound = checkRange('bound', options.bound, 0, 1e6, fail, 4);
  const { dim, hidden, activation, rng } = c;
  return assemble(
    c,
    (i) => new SplineCoupling({ dim, hidden, activation, bins, bound, rng, parity: parity(i) }),
  );
}

function parity(i: number): 0 | 1 {
  return i % 2 === 0 ? 0 : 1;
}

/**
 * Builds a flow from its config-file form, e.g. `{ type: 'spline', dim: 4, layers: 4, bins: 8 }`.
 * Unknown `type` values and unknown keys are rejected so that typos in config files surface.
 */
export function buildFlow(spec: FlowSpecOptions): NormalizingFlow {
  const fail = failFor('buildFlow');
  if (spec === null || typeof spec !== 'object') fail('spec must be an object with a `type`');
  if (spec.type === undefined) fail(`type is required (one of ${FLOW_TYPES.join(', ')})`);
  const type = checkChoice('type', spec.type, FLOW_TYPES, fail, 'realnvp');
  const known = ['type', ...COMMON_KEYS, ...EXTRA_KEYS[type]];
  const unknown = Object.keys(spec).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    fail(`unknown option(s) ${unknown.join(', ')} for type "${type}"; known: ${known.join(', ')}`);
  }
  const { type: _type, ...options } = spec;
  switch (type) {
    case 'realnvp':
      return realNVP(options as RealNVPOptions);
    case 'maf':
      return maf(options as MafOptions);
    case 'spline':
      return splineFlow(options as SplineFlowOptions);
  }
}
