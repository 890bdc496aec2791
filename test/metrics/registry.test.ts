import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { createDetectorMetrics, setBackendInfo } from '../../src/metrics/families.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';

describe('createMetricsRegistry', () => {
  it('creates an isolated registry with prefixed default metrics and default labels', async () => {
    const registry = createMetricsRegistry({ labels: { deployment: 'test' } });
    expect(registry).not.toBe(globalRegistry);
    const text = await registry.metrics();
    expect(text).toContain('flowsentinel_process_cpu_seconds_total');
    expect(text).toContain('flowsentinel_nodejs_eventloop_lag_seconds');
    expect(text).toMatch(/flowsentinel_process_cpu_user_seconds_total\{deployment="test"\}/);
    expect(await globalRegistry.metrics()).not.toContain('flowsentinel_');
  });

  it('can skip default metrics, and two registries do not collide', async () => {
    const a = createMetricsRegistry({ defaultMetrics: false });
    const b = createMetricsRegistry({ defaultMetrics: false });
    createDetectorMetrics(a);
    const mb = createDetectorMetrics(b);
    setBackendInfo(mb, 'cpu');
    expect(await a.metrics()).not.toContain('process_cpu');
    expect(await b.metrics()).toContain('flowsentinel_backend_info{backend="cpu"} 1');
    expect(await a.metrics()).not.toContain('backend="cpu"');
  });

  it('validates the prefix and label names', () => {
    expect(() => createMetricsRegistry({ prefix: '1bad' })).toThrow(InvalidOptionError);
    expect(() => createMetricsRegistry({ labels: { 'bad-name': 'x' } })).toThrow(/label/);
  });
});
