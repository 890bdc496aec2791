/**
 * Dependency rules of src/ (issue 12). The allowed-imports table is the one in docs/architecture.md,
 * "Folders and allowed imports": keep both in step. Run with `npm run check:deps`.
 */
const layers = {
  core: ['core', 'errors'],
  flow: ['flow', 'core', 'errors'],
  config: ['config', 'core', 'errors', 'logging'],
  logging: ['logging', 'errors'],
  detector: ['detector', 'flow', 'config', 'core', 'errors'],
  streams: ['streams', 'core', 'errors'],
  kafka: ['kafka', 'streams', 'config', 'core', 'errors', 'logging'],
  metrics: ['metrics', 'core', 'errors'],
  report: ['report', 'core', 'errors'],
  job: ['job', 'detector', 'flow', 'streams', 'kafka', 'metrics', 'config', 'core', 'errors', 'logging'],
  evaluate: ['evaluate', 'job', 'detector', 'streams', 'config', 'report', 'core', 'errors', 'logging'],
  testing: ['testing', 'job', 'detector', 'streams', 'config', 'core', 'errors', 'logging'],
};

/**
 * A path pattern for a layer: a folder of src/, or top-level files (errors.ts; logging.ts + log-pretty.ts +
 * log-names.ts).
 */
const FILES = { errors: '^src/errors\\.ts$', logging: '^src/(logging|log-pretty|log-names)\\.ts$' };
const at = (layer) => FILES[layer] ?? `^src/${layer}/`;

const layerRules = Object.entries(layers).map(([layer, allowed]) => ({
  name: `${layer}-imports`,
  comment: `${layer} may import only ${allowed.filter((l) => l !== layer).join(', ')} (docs/architecture.md)`,
  severity: 'error',
  from: { path: at(layer) },
  to: { path: '^src/', pathNot: allowed.map(at) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'import cycles make the layers meaningless; move shared types into a small types file',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    exclude: { path: '^(node_modules|dist|test|bench|examples|scripts)/' },
  },
};
