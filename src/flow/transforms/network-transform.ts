/**
 * Bookkeeping shared by the transforms whose parameters are one conditioner MLP (affine coupling, spline
 * coupling, MAF): where the initial weights come from, the JSON spec, revival from it, and disposal.
 * Only the math differs between them.
 */

import { createRng, type Rng } from '../../core/rng.js';
import type { Mlp, MlpInit } from '../nn.js';
import { configObject, type Fail, failSpec } from '../nn-options.js';
import type { ModuleSpec, SerializedTensor } from '../types.js';

/** Saved weights of a network transform, by name (`<prefix><layer>.w` / `.b`). */
export type NetworkWeights = Readonly<Record<string, SerializedTensor>>;

/** Fresh Glorot weights from `rng` (output layer zero: the identity), or the saved `weights`. */
export function networkInit(
  rng: Rng | undefined,
  weights: NetworkWeights | undefined,
  prefix: string,
): MlpInit {
  return weights === undefined ? { rng: rng ?? createRng(0), zeroOutput: true } : { weights, prefix };
}

/** The module spec: kind, a copy of the config (with its `hidden` array copied) and the MLP weights. */
export function networkSpec(
  kind: string,
  config: { readonly hidden: readonly number[] },
  net: Mlp,
  prefix: string,
): ModuleSpec {
  return { kind, config: { ...config, hidden: [...config.hidden] }, weights: net.encode(prefix) };
}

/**
 * Rebuilds a network transform from its spec: checks the kind, parses the config with `parse` (failing
 * with `SerializationError`) and passes the saved weights to `build`.
 */
export function reviveNetwork<C, T>(
  spec: ModuleSpec,
  kind: string,
  parse: (raw: Record<string, unknown>, fail: Fail) => C,
  build: (config: C, weights: NetworkWeights) => T,
): T {
  const fail = failSpec(kind);
  if (spec.kind !== kind) fail(`kind is "${spec.kind}"`);
  return build(parse(configObject(spec.config, fail), fail), spec.weights ?? {});
}

/** Disposes every part (MLP, split matrices, …) that exists. */
export function disposeAll(...parts: readonly ({ dispose(): void } | undefined)[]): void {
  for (const p of parts) p?.dispose();
}
