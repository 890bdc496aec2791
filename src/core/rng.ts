import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';

/**
 * A seeded, reproducible random source. Everything random in flowsentinel (weight init,
 * sampling, reservoirs, demo streams) draws from an injected `Rng` so replays and tests
 * are deterministic across runs and backends.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal N(0, 1). */
  normal(): number;
  /** Opaque generator state, for checkpoints. */
  getState(): number[];
}

/** Creates a seeded `Rng` (xoroshiro128+ from pure-rand), or restores one from `getState()`. */
export function createRng(seedOrState: number | readonly number[]): Rng {
  const gen =
    typeof seedOrState === 'number' ? xoroshiro128plus(seedOrState) : xoroshiro128plusFromState(seedOrState);
  // xoroshiro128+ seeded from a small integer emits correlated first outputs; burn them.
  if (typeof seedOrState === 'number') for (let i = 0; i < 32; i++) gen.next();
  const uniform = (): number => uniformFloat64(gen);
  return {
    uniform,
    normal(): number {
      // Box–Muller without caching the second variate, so getState() fully captures the stream.
      const u1 = 1 - uniform();
      const u2 = uniform();
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
    getState: () => [...gen.getState()],
  };
}

/** Fills a Float32Array of length `n` with standard normals. */
export function normalArray(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

/** Fills a Float32Array of length `n` with uniforms in [lo, hi). */
export function uniformArray(rng: Rng, n: number, lo = 0, hi = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.uniform();
  return out;
}
