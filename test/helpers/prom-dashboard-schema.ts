/**
 * Checks dashboard JSON against Grafana's own dashboard schema as published in `@grafana/schema` (the
 * TypeScript types generated from Grafana's CUE kinds): each dashboard becomes a TypeScript expression
 * `<json> satisfies FlowsentinelDashboard` and is type-checked in memory with the project's TypeScript.
 * `satisfies` on an object literal rejects unknown keys and wrong literal values (panel types, enums: the
 * types' string enums are turned into the union of their JSON values), so this is a strict structural
 * check. The panel options are the panel plugins' own `Options` types
 * (timeseries, heatmap, stat, bargauge); targets and annotations are the Prometheus query fields, which
 * `@grafana/schema` does not type.
 */
import { resolve } from 'node:path';
import ts from 'typescript';

const PANELCFG = '@grafana/schema/dist/esm/raw/composable';

const PRELUDE = `
import type { AnnotationQuery, Dashboard, DataSourceRef, FieldConfig, FieldConfigSource, Panel, RowPanel } from '@grafana/schema';
import type { Options as BarGaugeOptions } from '${PANELCFG}/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type { FieldConfig as HeatmapFieldConfig, Options as HeatmapOptions } from '${PANELCFG}/heatmap/panelcfg/x/HeatmapPanelCfg_types.gen';
import type { Options as StatOptions } from '${PANELCFG}/stat/panelcfg/x/StatPanelCfg_types.gen';
import type { FieldConfig as TimeSeriesFieldConfig, Options as TimeSeriesOptions } from '${PANELCFG}/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

/** The Prometheus data source's query (Grafana's PromQuery). */
interface PromTarget {
  refId: string;
  datasource: DataSourceRef;
  expr: string;
  editorMode?: 'code' | 'builder';
  legendFormat?: string;
  range?: boolean;
  instant?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  interval?: string;
  hide?: boolean;
  exemplar?: boolean;
}

/** A Prometheus annotation query (fields of Grafana's Prometheus annotation editor). */
interface PromAnnotation extends Omit<AnnotationQuery, 'target'> {
  expr: string;
  step?: string;
  titleFormat?: string;
  textFormat?: string;
  tagKeys?: string;
  useValueForTime?: boolean;
}

type Fields<C> = Omit<FieldConfigSource, 'defaults'> & { defaults: Omit<FieldConfig, 'custom'> & { custom?: C } };
type Typed<T extends string, O, C> = Omit<Panel, 'type' | 'options' | 'targets' | 'fieldConfig'> & {
  type: T;
  options: O;
  targets: PromTarget[];
  fieldConfig: Fields<C>;
};
type FlowsentinelPanel =
  | Typed<'timeseries', TimeSeriesOptions, TimeSeriesFieldConfig>
  | Typed<'heatmap', HeatmapOptions, HeatmapFieldConfig>
  | Typed<'stat', StatOptions, Record<string, unknown>>
  | Typed<'bargauge', BarGaugeOptions, Record<string, unknown>>
  | RowPanel;
/** JSON spelling of a type: string enums become the union of their values (JSON has no enums). */
type Json<T> = T extends string
  ? \`\${T}\`
  : T extends number | boolean | null | undefined
    ? T
    : T extends readonly (infer U)[]
      ? Json<U>[]
      : T extends object
        ? { [K in keyof T]: Json<T[K]> }
        : T;
type FlowsentinelDashboard = Json<
  Omit<Dashboard, 'panels' | 'annotations'> & {
    panels: FlowsentinelPanel[];
    annotations: { list: (AnnotationQuery | PromAnnotation)[] };
  }
>;
`;

/** One type error: dashboard file, JSON line of the error, message. */
export interface SchemaProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/**
 * Type-checks each dashboard (`files[i]` named `names[i]`) against `FlowsentinelDashboard`; returns every
 * problem (empty when all conform). `root` is the repository root (module resolution of @grafana/schema).
 */
export function checkDashboardSchema(
  dashboards: readonly { readonly file: string; readonly json: unknown }[],
  root: string,
): SchemaProblem[] {
  const starts: { file: string; line: number }[] = [];
  let source = PRELUDE;
  dashboards.forEach((d, i) => {
    starts.push({ file: d.file, line: source.split('\n').length });
    source += `export const dashboard${i} = ${JSON.stringify(d.json, null, 2)} satisfies FlowsentinelDashboard;\n`;
  });
  const fileName = resolve(root, 'test/deploy/__dashboard-schema-check__.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const original = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, ...rest) =>
    resolve(name) === fileName
      ? ts.createSourceFile(name, source, languageVersion, true)
      : original(name, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => resolve(name) === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  return ts.getPreEmitDiagnostics(program).map((diag) => {
    const message = ts.flattenDiagnosticMessageText(diag.messageText, '\n');
    if (diag.file === undefined || diag.start === undefined || resolve(diag.file.fileName) !== fileName) {
      return { file: diag.file?.fileName ?? '(global)', line: 0, message };
    }
    const line = diag.file.getLineAndCharacterOfPosition(diag.start).line + 1;
    const owner = [...starts].reverse().find((s) => s.line <= line);
    return { file: owner?.file ?? 'prelude', line: owner ? line - owner.line + 1 : line, message };
  });
}
