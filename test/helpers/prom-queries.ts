/**
 * The PromQL of deploy/grafana/dashboards/*.json and deploy/prometheus/rules.yml, for the dashboard tests:
 * every expression with where it came from, Grafana variable substitution, and the metric names an
 * expression reads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const DASHBOARD_DIR = 'deploy/grafana/dashboards';
export const RULES_PATH = 'deploy/prometheus/rules.yml';
export const DATASOURCE_PATH = 'deploy/grafana/provisioning/datasources/prometheus.yaml';

/** A dashboard file as parsed JSON (shape checked by the structural test). */
export interface DashboardFile {
  readonly file: string;
  readonly json: Record<string, unknown>;
}

/** Where an expression lives and how Grafana runs it. */
export type QueryKind = 'panel' | 'instant-panel' | 'variable' | 'annotation';

export interface DashboardQuery {
  readonly dashboard: string;
  /** Panel title, variable name or annotation name, with the target's refId. */
  readonly where: string;
  readonly kind: QueryKind;
  /** As written in the dashboard (for variables: the series selector inside label_values). */
  readonly expr: string;
  /** For variables: the label whose values the variable lists. */
  readonly label?: string;
}

/** Every dashboard JSON file, sorted by name. */
export function loadDashboards(dir = DASHBOARD_DIR): DashboardFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({
      file: f,
      json: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>,
    }));
}

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Panels including those nested in collapsed rows. */
export function allPanels(dashboard: Obj): Obj[] {
  const out: Obj[] = [];
  for (const p of asArray(dashboard.panels).map(asObj)) {
    out.push(p);
    for (const nested of asArray(p.panels).map(asObj)) out.push(nested);
  }
  return out;
}

const LABEL_VALUES = /^\s*label_values\(\s*(.*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/s;

/** Every PromQL expression of a dashboard: panel targets, query variables and annotations. */
export function dashboardQueries(d: DashboardFile): DashboardQuery[] {
  const dashboard = d.file;
  const out: DashboardQuery[] = [];
  for (const panel of allPanels(d.json)) {
    for (const t of asArray(panel.targets).map(asObj)) {
      if (typeof t.expr !== 'string') continue;
      const kind = t.instant === true && t.range !== true ? 'instant-panel' : 'panel';
      out.push({ dashboard, where: `panel "${String(panel.title)}" ${String(t.refId)}`, kind, expr: t.expr });
    }
  }
  for (const v of asArray(asObj(d.json.templating).list).map(asObj)) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : asObj(v.query).query;
    const m = typeof q === 'string' ? LABEL_VALUES.exec(q) : null;
    if (m === null)
      throw new Error(`${dashboard}: variable ${String(v.name)} is not label_values(expr, label)`);
    out.push({
      dashboard,
      where: `variable $${String(v.name)}`,
      kind: 'variable',
      expr: m[1]!,
      label: m[2]!,
    });
  }
  for (const a of asArray(asObj(d.json.annotations).list).map(asObj)) {
    if (typeof a.expr === 'string') {
      out.push({ dashboard, where: `annotation "${String(a.name)}"`, kind: 'annotation', expr: a.expr });
    }
  }
  return out;
}

/** Values of Grafana's variables for one run; `$name` and `${name}` are replaced. */
export type Variables = Readonly<Record<string, string>>;

/** `expr` with every `$var`/`${var}` replaced; throws on a variable it does not know. */
export function substitute(expr: string, vars: Variables): string {
  return expr.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      const value = vars[name];
      if (value === undefined) throw new Error(`unknown variable ${whole} in ${expr}`);
      return value;
    },
  );
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * Metric names an expression reads: identifiers that are neither functions/aggregations (followed by
 * `(`), keywords, label names (inside `{…}` or a by/on/… list) nor parts of strings, numbers or durations.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (name === undefined || call !== undefined || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names].sort();
}

/** One rule of rules.yml. */
export interface RuleEntry {
  readonly group: string;
  readonly name: string;
  readonly kind: 'record' | 'alert';
  readonly expr: string;
}

/** Every recording and alerting rule of rules.yml. */
export function loadRules(path = RULES_PATH): RuleEntry[] {
  const doc = asObj(parse(readFileSync(path, 'utf8')));
  const out: RuleEntry[] = [];
  for (const g of asArray(doc.groups).map(asObj)) {
    for (const r of asArray(g.rules).map(asObj)) {
      const kind = typeof r.record === 'string' ? 'record' : 'alert';
      const name = String(kind === 'record' ? r.record : r.alert);
      out.push({ group: String(g.name), name, kind, expr: String(r.expr) });
    }
  }
  return out;
}

/** Metric family names in a Prometheus text exposition (from `# TYPE` lines and samples). */
export function exposedNames(body: string): Set<string> {
  const names = new Set<string>();
  for (const line of body.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line);
    if (type) {
      names.add(type[1]!);
      if (type[2] === 'histogram' || type[2] === 'summary') {
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${type[1]!}${suffix}`);
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (sample) names.add(sample[1]!);
  }
  return names;
}

/** Series Prometheus makes up itself for every target (not in /metrics). */
export const SYNTHETIC_SERIES = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'ALERTS',
]);
