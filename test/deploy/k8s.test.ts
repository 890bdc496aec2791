import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { loadConfigText, repoText, repoYaml, runtimeArgs } from '../helpers/deploy-files.js';
import {
  type Container,
  type Deployment,
  MEASURED,
  parseQuantity,
  type Service,
  selectorMatches,
} from '../helpers/deploy-k8s.js';
import {
  describeWithTool,
  K8S_VALIDATE_TOOL,
  KUSTOMIZE_TOOL,
  REPO_ROOT,
  runTool,
} from '../helpers/deploy-tools.js';

const K8S = 'deploy/k8s';
const kustomization = repoYaml<{ resources: string[]; images: { name: string }[] }>(
  `${K8S}/kustomization.yaml`,
);
const deployment = repoYaml<Deployment>(`${K8S}/deployment.yaml`);
const service = repoYaml<Service>(`${K8S}/service.yaml`);
const pdb = repoYaml<{
  spec: { maxUnavailable?: number; selector: { matchLabels: Record<string, string> } };
}>(`${K8S}/pdb.yaml`);
const serviceMonitor = repoYaml<{
  spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
}>(`${K8S}/optional/servicemonitor.yaml`);
const configMap = repoYaml<{ metadata: { name: string }; data: Record<string, string> }>(
  `${K8S}/configmap.yaml`,
);
const config = loadConfigText(configMap.data['config.yaml'] ?? '');
const pod = deployment.spec.template;
const container = pod.spec.containers[0] as Container;
const podLabels = pod.metadata.labels;
const KUBERNETES_VERSIONS = ['1.31.0', '1.37.0'];

describeWithTool(
  K8S_VALIDATE_TOOL,
  'Kubernetes manifests against the Kubernetes OpenAPI schemas (kubernetes-validate --strict)',
  () => {
    const files = [...kustomization.resources, 'secret.example.yaml'].map((f) => join(K8S, f));

    it.each(KUBERNETES_VERSIONS)(
      'every resource of the kustomization is valid for Kubernetes %s',
      async (version) => {
        expect(files).toHaveLength(5);
        const run = await runTool(K8S_VALIDATE_TOOL, ['--strict', '-k', version, ...files]);
        expect(run.stderr + run.stdout).not.toMatch(/WARN|ERROR|failed/);
        expect(run.code).toBe(0);
        for (const file of files) expect(run.stdout).toContain(`${file} passed`);
      },
    );

    it('rejects an unknown field and a mistyped value (the validator is not vacuous)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'flowsentinel-k8s-'));
      try {
        const unknown = structuredClone(deployment) as unknown as { spec: Record<string, unknown> };
        unknown.spec.replica = 2;
        const mistyped = structuredClone(deployment);
        (
          mistyped.spec.template.spec as { terminationGracePeriodSeconds: unknown }
        ).terminationGracePeriodSeconds = '35s';
        writeFileSync(join(dir, 'unknown.yaml'), stringify(unknown));
        writeFileSync(join(dir, 'mistyped.yaml'), stringify(mistyped));
        for (const file of ['unknown.yaml', 'mistyped.yaml']) {
          const run = await runTool(K8S_VALIDATE_TOOL, ['--strict', join(dir, file)]);
          expect(run.code, file).not.toBe(0);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

describeWithTool(
  KUSTOMIZE_TOOL,
  'the kustomization as `kubectl apply -k` renders it (kustomize build)',
  () => {
    it('renders the four objects with the part-of label and the image tag, valid for Kubernetes', async () => {
      const build = await runTool(KUSTOMIZE_TOOL, ['build', K8S]);
      expect(build.stderr).toBe('');
      expect(build.code).toBe(0);
      const docs = parseAllDocuments(build.stdout).map(
        (d) => d.toJS() as { kind: string; metadata: { labels: Record<string, string> } },
      );
      expect(docs.map((d) => d.kind).sort()).toEqual([
        'ConfigMap',
        'Deployment',
        'PodDisruptionBudget',
        'Service',
      ]);
      for (const doc of docs) expect(doc.metadata.labels['app.kubernetes.io/part-of']).toBe('flowsentinel');
      expect(build.stdout).toContain('image: flowsentinel:0.1.0');
      const dir = mkdtempSync(join(tmpdir(), 'flowsentinel-kustomize-'));
      try {
        writeFileSync(join(dir, 'rendered.yaml'), build.stdout);
        const run = await runTool(K8S_VALIDATE_TOOL, ['--strict', join(dir, 'rendered.yaml')]);
        expect(run.stderr + run.stdout).not.toMatch(/WARN|ERROR|failed/);
        expect(run.code).toBe(0);
        expect(run.stdout.match(/ passed for resource /g)).toHaveLength(4);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

describe('ServiceMonitor against the prometheus-operator CRD schema (@kubernetes-models/prometheus-operator)', () => {
  it('validates, and a wrong interval is rejected', () => {
    expect(() => new ServiceMonitor(serviceMonitor as never).validate()).not.toThrow();
    const bad = structuredClone(serviceMonitor) as { spec: { endpoints: Record<string, unknown>[] } };
    if (bad.spec.endpoints[0]) bad.spec.endpoints[0].interval = 'often';
    expect(() => new ServiceMonitor(bad as never).validate()).toThrow(/interval/);
  });

  it('selects the Service and scrapes its metrics port', () => {
    expect(
      selectorMatches(
        serviceMonitor.spec.selector.matchLabels,
        repoYaml<Service>(`${K8S}/service.yaml`).metadata.labels,
      ),
    ).toBe(true);
    expect(serviceMonitor.spec.endpoints).toEqual([
      expect.objectContaining({ port: service.spec.ports[0]?.name, path: '/metrics' }),
    ]);
  });
});

describe('Kubernetes manifests fit flowsentinel', () => {
  it('lists resources that exist, and the image the Deployment uses', () => {
    for (const file of kustomization.resources) expect(() => repoText(join(K8S, file))).not.toThrow();
    expect(kustomization.images[0]?.name).toBe(container.image.split(':')[0]);
  });

  it('selects the pods from the Deployment, the Service and the PodDisruptionBudget', () => {
    expect(selectorMatches(deployment.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(selectorMatches(service.spec.selector, podLabels)).toBe(true);
    expect(selectorMatches(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(pdb.spec.maxUnavailable).toBe(1);
  });

  it('runs every replica in one consumer group', () => {
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(config.kafka.groupId).toBe('flowsentinel');
    // Nothing per pod may override the group; the client id is per pod on purpose.
    expect(container.env.map((e) => e.name)).not.toContain('FLOWSENTINEL_KAFKA__GROUP_ID');
    expect(
      container.env.find((e) => e.name === 'FLOWSENTINEL_KAFKA__CLIENT_ID')?.valueFrom?.fieldRef?.fieldPath,
    ).toBe('metadata.name');
  });

  it('exposes metrics where the probes, the Service and the scrape annotations look', () => {
    const port = container.ports.find((p) => p.name === 'metrics');
    expect(port?.containerPort).toBe(config.metrics.port);
    expect(service.spec.ports[0]).toMatchObject({
      name: 'metrics',
      port: config.metrics.port,
      targetPort: 'metrics',
    });
    expect(pod.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(config.metrics.port),
      'prometheus.io/path': '/metrics',
    });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
  });

  it('gives the graceful shutdown its whole timeout after preStop, plus a margin', () => {
    const preStop = container.lifecycle.preStop.exec.command;
    expect(preStop[0]).toBe('sleep');
    const preStopSeconds = Number(preStop[1]);
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      preStopSeconds + config.shutdown.timeoutMs / 1000 + 10,
    );
  });

  it('mounts the config where the image reads it, the Kafka secret where the config points, per-pod checkpoints', () => {
    const cmd = runtimeArgs('CMD');
    const mountOf = (name: string) => container.volumeMounts.find((m) => m.name === name)?.mountPath;
    expect(`${mountOf('config')}/config.yaml`).toBe(cmd[2]);
    expect(container.args).toEqual(cmd);
    expect(config.kafka.sasl?.passwordFile?.startsWith(`${mountOf('kafka-secret')}/`)).toBe(true);
    expect(mountOf('checkpoints')).toBe(config.checkpoint.dir);
    expect(pod.spec.volumes.find((v) => v.name === 'checkpoints')).toHaveProperty('emptyDir');
    expect(`${pod.spec.securityContext.runAsUser}:${pod.spec.securityContext.runAsGroup}`).toBe(
      runtimeArgs('USER')[0],
    );
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true });
  });

  it('requests and limits resources that cover the measured usage (docs/deployment.md)', () => {
    const { requests, limits } = container.resources;
    const mib = (q: string) => parseQuantity(q) / 2 ** 20;
    expect(mib(requests.memory)).toBeGreaterThanOrEqual(MEASURED.peakRssMiB * 1.25);
    expect(mib(limits.memory)).toBeGreaterThanOrEqual(MEASURED.peakRssMiB * 2);
    expect(parseQuantity(requests.cpu)).toBeGreaterThanOrEqual(MEASURED.averageCores * 2);
    expect(parseQuantity(limits.cpu)).toBeGreaterThanOrEqual(MEASURED.peakCores);
    const heap = /--max-old-space-size=(\d+)/.exec(
      container.env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '',
    );
    expect(Number(heap?.[1])).toBeGreaterThanOrEqual(MEASURED.heapUsedMiB * 2);
    expect(Number(heap?.[1])).toBeLessThan(mib(limits.memory) / 1.5);
  });
});

describe('manifest helpers', () => {
  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('250m')).toBe(0.25);
    expect(parseQuantity('1')).toBe(1);
    expect(parseQuantity('320Mi')).toBe(320 * 2 ** 20);
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('500M')).toBe(5e8);
    expect(() => parseQuantity('lots')).toThrow(/quantity/);
    expect(REPO_ROOT.length).toBeGreaterThan(1);
  });
});
