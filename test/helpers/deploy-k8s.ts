/**
 * Shapes of the deploy/k8s manifests the tests read, Kubernetes quantity parsing and label selectors,
 * and the resource usage measured for the requests and limits (docs/deployment.md, "Resources").
 */

/**
 * Measured on one `flowsentinel run` replica with the compose config (realnvp 6×64, 6 features, reservoir
 * 10 000): 30 000 events of the bundled recording at about 210 events/s against a local Kafka 4.1.1;
 * /usr/bin/time -v and /proc/<pid>/stat sampled every 2 s.
 */
export const MEASURED = {
  /** Peak resident set size, MiB (229 452 kB). */
  peakRssMiB: 224,
  /** flowsentinel_nodejs_heap_size_used_bytes at the end, MiB (103 MB). */
  heapUsedMiB: 99,
  /** CPU seconds over wall seconds of the whole run (16.8 s / 148 s). */
  averageCores: 0.11,
  /** Highest CPU over a 2 s sample (a 5000-event burst being scored). */
  peakCores: 0.58,
} as const;

/** The parts of a container spec the tests read. */
export interface Container {
  readonly name: string;
  readonly image: string;
  readonly args: string[];
  readonly env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  readonly ports: { name: string; containerPort: number }[];
  readonly startupProbe: { httpGet: Record<string, unknown> };
  readonly livenessProbe: { httpGet: Record<string, unknown> };
  readonly readinessProbe: { httpGet: Record<string, unknown> };
  readonly lifecycle: { preStop: { exec: { command: string[] } } };
  readonly resources: {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
  };
  readonly securityContext: Record<string, unknown>;
  readonly volumeMounts: { name: string; mountPath: string }[];
}

/** The parts of deploy/k8s/deployment.yaml the tests read. */
export interface Deployment {
  readonly spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        securityContext: { runAsUser: number; runAsGroup: number };
        containers: Container[];
        volumes: ({ name: string } & Record<string, unknown>)[];
      };
    };
  };
}

/** The parts of deploy/k8s/service.yaml the tests read. */
export interface Service {
  readonly metadata: { labels: Record<string, string> };
  readonly spec: {
    selector: Record<string, string>;
    ports: { name: string; port: number; targetPort: string | number }[];
  };
}

const SUFFIXES: Readonly<Record<string, number>> = {
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
};

/** A Kubernetes quantity ('250m', '1', '320Mi') as a number (cores or bytes). */
export function parseQuantity(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|Ki|Mi|Gi)?$/.exec(quantity);
  const factor = SUFFIXES[m?.[2] ?? ''];
  if (!m?.[1] || factor === undefined) throw new Error(`not a Kubernetes quantity: ${quantity}`);
  return Number(m[1]) * factor;
}

/** True when every label of `selector` is on `labels` with the same value (and the selector is not empty). */
export function selectorMatches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}
