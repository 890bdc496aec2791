import { collectDefaultMetrics, Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';

/** Options of `createMetricsRegistry`. */
export interface MetricsRegistryOptions {
  /** Prefix of the default process/Node.js metrics (default 'flowsentinel_'). */
  readonly prefix?: string;
  /** Also collect prom-client's default process metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** Labels added to every series, e.g. { instance_group: 'a' }. */
  readonly labels?: Readonly<Record<string, string>>;
}

const METRIC_PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A fresh prom-client `Registry` (never the global default one, so tests and several detectors in one
 * process do not collide), with default process metrics collected into it.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): Registry {
  const prefix = options.prefix ?? 'flowsentinel_';
  if (prefix !== '' && !METRIC_PREFIX.test(prefix)) {
    throw new InvalidOptionError(`metric prefix "${prefix}" is not a valid Prometheus name prefix`);
  }
  const registry = new Registry();
  const labels = options.labels ?? {};
  for (const name of Object.keys(labels)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      throw new InvalidOptionError(`default label "${name}" is not a valid Prometheus label name`);
    }
  }
  if (Object.keys(labels).length > 0) registry.setDefaultLabels({ ...labels });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });
  return registry;
}
