/**
 * Structure of deploy/grafana/dashboards/*.json: Grafana's dashboard schema (@grafana/schema types), unique
 * panel ids, data sources resolving to the provisioned Prometheus, templating by job/instance/topic, the
 * panels the dashboards promise, and every metric name they or the rules read registered by the code.
 * The same queries run against a live Prometheus in prometheus-live.test.ts.
 */
import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createDetectorMetrics } from '../../src/metrics/families.js';
import { createJobMetrics } from '../../src/metrics/job-families.js';
import { createKafkaConsumerMetrics, createStalledGauge } from '../../src/metrics/kafka-families.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import { checkDashboardSchema } from '../helpers/prom-dashboard-schema.js';
import {
  allPanels,
  DATASOURCE_PATH,
  type DashboardFile,
  dashboardQueries,
  exposedNames,
  loadDashboards,
  loadRules,
  metricNames,
  SYNTHETIC_SERIES,
} from '../helpers/prom-queries.js';

type Obj = Record<string, unknown>;

/** Every `datasource` value anywhere in a JSON document, with its path. */
function datasourceRefs(node: unknown, path = '$'): { path: string; ref: unknown }[] {
  if (Array.isArray(node)) return node.flatMap((v, i) => datasourceRefs(v, `${path}[${i}]`));
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node as Obj).flatMap(([k, v]) =>
    k === 'datasource' ? [{ path: `${path}.${k}`, ref: v }] : datasourceRefs(v, `${path}.${k}`),
  );
}

const provisioned = (parse(readFileSync(DATASOURCE_PATH, 'utf8')) as { datasources: Obj[] }).datasources;
const dashboards = loadDashboards();

describe('Grafana dashboards: structure', () => {
  it('ships exactly the two dashboards with their titles and unique uids', () => {
    const byFile = Object.fromEntries(dashboards.map((d) => [d.file, d.json.title]));
    expect(byFile).toEqual({
      'density-drift.json': 'flowsentinel — density drift',
      'pipeline-health.json': 'flowsentinel — pipeline health',
    });
    expect(new Set(dashboards.map((d) => d.json.uid)).size).toBe(dashboards.length);
  });

  it('conforms to the @grafana/schema dashboard types (strict: unknown keys and bad enum values fail)', () => {
    expect(checkDashboardSchema(dashboards, process.cwd())).toEqual([]);
  }, 60_000);

  it('the schema check rejects a broken dashboard (an unknown panel type and an unknown key)', () => {
    const bad = structuredClone(dashboards[0]!.json) as Obj;
    const panels = bad.panels as Obj[];
    panels[1] = { ...panels[1], type: 'timeseriez', bogus: 1 };
    const problems = checkDashboardSchema([{ file: 'bad.json', json: bad }], process.cwd());
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.file === 'bad.json')).toBe(true);
  }, 60_000);

  it.each(dashboards.map((d) => [d.file, d] as const))(
    '%s: panel ids are unique, panels do not overlap',
    (_, d) => {
      const panels = allPanels(d.json);
      const ids = panels.map((p) => p.id);
      expect(ids.every((id) => Number.isInteger(id))).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
      const cells = new Set<string>();
      for (const p of panels) {
        const g = p.gridPos as { x: number; y: number; w: number; h: number };
        expect(g.x + g.w, `panel ${String(p.title)} exceeds 24 columns`).toBeLessThanOrEqual(24);
        for (let x = g.x; x < g.x + g.w; x++) {
          for (let y = g.y; y < g.y + g.h; y++) {
            const cell = `${x},${y}`;
            expect(cells.has(cell), `panel "${String(p.title)}" overlaps at ${cell}`).toBe(false);
            cells.add(cell);
          }
        }
      }
    },
  );

  it.each(dashboards.map((d) => [d.file, d] as const))(
    '%s: every data source reference resolves to the provisioned Prometheus',
    (_, d) => {
      const prometheus = provisioned.find((s) => s.type === 'prometheus');
      expect(prometheus?.uid).toBeTypeOf('string');
      const refs = datasourceRefs(d.json);
      expect(refs.length).toBeGreaterThan(10);
      for (const { path, ref } of refs) {
        const r = ref as Obj;
        const builtIn = r.type === 'grafana' && r.uid === '-- Grafana --' && path.startsWith('$.annotations');
        if (builtIn) continue;
        expect({ path, type: r.type, uid: r.uid }).toEqual({
          path,
          type: 'prometheus',
          uid: prometheus?.uid,
        });
      }
    },
  );

  it.each(dashboards.map((d) => [d.file, d] as const))('%s: templated by job, instance and topic', (_, d) => {
    const vars = ((d.json.templating as Obj).list as Obj[]).map((v) => v.name);
    expect(vars).toEqual(['job', 'instance', 'topic']);
    const exprs = dashboardQueries(d).filter((q) => q.kind !== 'variable');
    for (const q of exprs) expect(q.expr, q.where).toMatch(/job=~"\$job",instance=~"\$instance"/);
    expect(exprs.some((q) => q.expr.includes('topic=~"$topic"'))).toBe(d.file === 'pipeline-health.json');
  });

  it('has the panels and annotations the issue lists', () => {
    const titles = (d: DashboardFile): string[] => allPanels(d.json).map((p) => String(p.title));
    const [drift, health] = dashboards as [DashboardFile, DashboardFile];
    expect(titles(drift)).toEqual(
      expect.arrayContaining([
        'Mean log-likelihood vs reference band',
        'Drift score and alert level',
        'Log-likelihood distribution',
        'Threshold over time',
        'Anomaly rate',
        'Anomalies/s by key (top 10)',
        'Training loss',
        'Training steps',
      ]),
    );
    expect(allPanels(drift.json).find((p) => p.title === 'Log-likelihood distribution')?.type).toBe(
      'heatmap',
    );
    expect(titles(health)).toEqual(
      expect.arrayContaining([
        'Events/s by result',
        'Dead letters/s by reason',
        'Batch duration p50 / p99',
        'Event latency p50 / p99',
        'Consumer lag',
        'In-flight records',
        'Process memory',
        'Event-loop lag',
      ]),
    );
    const annotations = dashboardQueries(drift).filter((q) => q.kind === 'annotation');
    expect(annotations.map((a) => a.where)).toEqual([
      'annotation "Model checkpoints"',
      'annotation "Density drift"',
    ]);
    expect(annotations[0]?.expr).toContain('flowsentinel_model_version');
  });
});

describe('metric names of dashboards and rules', () => {
  let registered: Set<string>;
  const rules = loadRules();
  const recorded = new Set(rules.filter((r) => r.kind === 'record').map((r) => r.name));

  beforeAll(async () => {
    const registry: Registry = createMetricsRegistry();
    createDetectorMetrics(registry);
    createJobMetrics(registry, { highWaterMark: 10, ready: () => true });
    createKafkaConsumerMetrics(registry, ['t']);
    createStalledGauge(registry, ['broker_unreachable'], () => undefined);
    registered = exposedNames(await registry.metrics());
  });

  it('parses names out of PromQL', () => {
    expect(
      metricNames(
        'topk(10, sum by (key, le) (rate(a_total{job=~"$job",x="b_c"}[5m] offset 1h))) / on (job) group_left b:c:d > bool 0',
      ),
    ).toEqual(['a_total', 'b:c:d']);
    expect(metricNames('histogram_quantile(0.5, sum without (le) (x_bucket)) and ALERTS')).toEqual([
      'ALERTS',
      'x_bucket',
    ]);
  });

  it('every name in the dashboards and rules is a registered family, a recording rule or a Prometheus series', () => {
    const used = new Map<string, string>();
    for (const d of dashboards)
      for (const q of dashboardQueries(d))
        for (const n of metricNames(q.expr)) used.set(n, `${d.file} ${q.where}`);
    for (const r of rules) for (const n of metricNames(r.expr)) used.set(n, `rules.yml ${r.name}`);
    expect(used.size).toBeGreaterThan(30);
    const unknown = [...used].filter(
      ([n]) => !registered.has(n) && !recorded.has(n) && !SYNTHETIC_SERIES.has(n),
    );
    expect(unknown).toEqual([]);
  });

  it('every recording rule is used by a dashboard or an alert', () => {
    const reads = new Set<string>();
    for (const d of dashboards)
      for (const q of dashboardQueries(d)) for (const n of metricNames(q.expr)) reads.add(n);
    for (const r of rules.filter((x) => x.kind === 'alert'))
      for (const n of metricNames(r.expr)) reads.add(n);
    expect([...recorded].filter((n) => !reads.has(n))).toEqual([]);
  });
});
