import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { observeAll } from '../../src/metrics/observe-all.js';

const BUCKETS = [-10, -1, 0, 0.1, 0.25, 0.5, 1, 2.5];

function histogram(labelNames: string[] = []): { registry: Registry; h: Histogram<string> } {
  const registry = new Registry();
  const h = new Histogram({ name: 'x', help: 'x', buckets: BUCKETS, labelNames, registers: [registry] });
  return { registry, h };
}

describe('observeAll', () => {
  // -1 as a bound: prom-client counts values beyond the last bound in that bucket too (kept as is).
  it('gives the same exposition as one observe per value, batch after batch', async () => {
    const rng = createRng(5);
    const one = histogram();
    const all = histogram();
    for (let batch = 0; batch < 20; batch++) {
      const values = Array.from({ length: 1 + (batch % 7) * 40 }, (_, i) =>
        // Exactly on bounds, between them, beyond the last and below the first; sums in float order.
        i % 5 === 0 ? BUCKETS[i % BUCKETS.length]! : (rng.uniform() - 0.3) * 30,
      );
      for (const v of values) one.h.observe(v);
      observeAll(all.h, Float64Array.from(values), values.length);
      expect(await all.registry.metrics()).toBe(await one.registry.metrics());
    }
    const exposition = await all.registry.metrics();
    expect(exposition).toMatch(/x_count \d+/);
  });

  it('observes only the first n values and nothing for n = 0', async () => {
    const one = histogram();
    const all = histogram();
    one.h.observe(0.3);
    observeAll(all.h, [0.3, 99, 99], 1);
    observeAll(all.h, [], 0);
    expect(await all.registry.metrics()).toBe(await one.registry.metrics());
  });

  it('falls back to observe per value for a labelled histogram', async () => {
    const { registry, h } = histogram(['kind']);
    observeAll(h, [0.5, 3], 2);
    const one = histogram(['kind']);
    one.h.observe(0.5);
    one.h.observe(3);
    expect(await registry.metrics()).toBe(await one.registry.metrics());
    expect(await registry.metrics()).toMatch(/x_sum 3\.5/);
  });

  it('rejects a non-finite value like observe, applying none', async () => {
    const { registry, h } = histogram();
    expect(() => observeAll(h, [1, Number.NaN], 2)).toThrow(TypeError);
    expect(await registry.metrics()).toMatch(/x_count 0/);
  });
});
