import { Counter, Gauge, type Registry } from 'prom-client';
import type { KeyedModelObserver } from '../core/detector.js';

/** The per-key model families (`perKey.enabled`). */
export interface KeyedMetrics {
  readonly active: Gauge;
  readonly evictions: Counter;
  readonly loads: Counter;
}

/** Registers the per-key model metrics on `registry` (idempotent: reuses families already there). */
export function createKeyedMetrics(registry: Registry): KeyedMetrics {
  const reuse = <T>(name: string, make: () => T): T =>
    (registry.getSingleMetric(name) as T | undefined) ?? make();
  const registers = [registry];
  return {
    active: reuse(
      'flowsentinel_keyed_models_active',
      () => new Gauge({ name: 'flowsentinel_keyed_models_active', help: 'Live per-key models.', registers }),
    ),
    evictions: reuse(
      'flowsentinel_keyed_model_evictions_total',
      () =>
        new Counter({
          name: 'flowsentinel_keyed_model_evictions_total',
          help: 'Least recently used per-key models saved to the checkpoint directory and freed.',
          registers,
        }),
    ),
    loads: reuse(
      'flowsentinel_keyed_model_loads_total',
      () =>
        new Counter({
          name: 'flowsentinel_keyed_model_loads_total',
          help: 'Evicted per-key models loaded back when their key returned.',
          registers,
        }),
    ),
  };
}

/** The keyed detector's observer that feeds `metrics`. */
export function keyedMetricsObserver(metrics: KeyedMetrics): KeyedModelObserver {
  return {
    onActive: (n) => metrics.active.set(n),
    onEviction: () => metrics.evictions.inc(),
    onLoad: () => metrics.loads.inc(),
  };
}
