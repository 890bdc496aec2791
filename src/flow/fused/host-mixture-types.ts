/** The host mixture layer's shapes, apart from its math so the element kernels can share them. */
import type { MixturePlan } from './host-plan.js';

/** A mixture layer's folded parameters, `[dim, K]` row-major each. */
export interface MixtureWeights {
  readonly plan: MixturePlan;
  readonly dim: number;
  /** Normalised log-weights and the weights π themselves. */
  readonly logW: Float64Array;
  readonly pi: Float64Array;
  /** π_k/(σ_k·√(2π)): the component's density is dens·e^(−t²/2). */
  readonly dens: Float64Array;
  readonly mu: Float64Array;
  /** Clamped log-scales, their e^(−σ), and 1 where the clamp is inactive (the gradient passes). */
  readonly ls: Float64Array;
  readonly inv: Float64Array;
  readonly live: Uint8Array;
}

/** What the backward pass needs, `[rows, dim, K]` each: t, the three responsibilities, and r·dlogΦ/dt. */
export interface MixtureSaved {
  readonly t: Float64Array;
  readonly rZ: Float64Array;
  readonly rS: Float64Array;
  readonly rD: Float64Array;
  readonly cZ: Float64Array;
  readonly cS: Float64Array;
}
