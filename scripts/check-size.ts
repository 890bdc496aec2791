/**
 * Size check of src/ (issue 12): no file over 350 lines, no function over 60 lines, except the files named
 * in .ci/size-allow.txt. Function length is biome's complexity/noExcessiveLinesPerFunction (configured for
 * src/ in biome.json, so `npm run lint` enforces it too); this script also checks that biome.json switches
 * the rule off for exactly the allow-listed files, and that no allow-list entry is stale.
 *
 *   npx tsx scripts/check-size.ts        (run by .ci/checks.d/size.sh and `npm run check:size`)
 *
 * Prints every problem, one per line, and exits 1 if there is any.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAX_FILE_LINES = 350;
/** biome counts the lines between a function's braces: 58 body lines = 60 lines with a one-line signature. */
const MAX_FUNCTION_BODY_LINES = 58;
const RULE = 'noExcessiveLinesPerFunction';
const ALLOW_FILE = '.ci/size-allow.txt';

type Kind = 'lines' | 'functions';
interface Entry {
  kind: Kind;
  path: string;
  reason: string;
}

/** Parses the allow-list; malformed lines go to `problems`. */
function parseAllowList(text: string, problems: string[]): Entry[] {
  const entries: Entry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [kind, path, ...rest] = line.split(/\s+/);
    const reason = rest.join(' ');
    const where = `${ALLOW_FILE}:${i + 1}`;
    if (kind !== 'lines' && kind !== 'functions') problems.push(`${where}: kind must be lines or functions`);
    else if (!path?.startsWith('src/') || !existsSync(path))
      problems.push(`${where}: no such file in src/: ${path}`);
    else if (reason === '') problems.push(`${where}: give a reason after the path`);
    else if (entries.some((e) => e.kind === kind && e.path === path))
      problems.push(`${where}: duplicate entry`);
    else entries.push({ kind, path, reason });
  });
  return entries;
}

function sourceFiles(): string[] {
  return readdirSync('src', { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join('src', f))
    .sort();
}

function lineCount(path: string): number {
  const text = readFileSync(path, 'utf8');
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

function checkFileLines(files: string[], allowed: Set<string>, problems: string[]): void {
  for (const file of files) {
    const n = lineCount(file);
    if (n > MAX_FILE_LINES && !allowed.has(file)) {
      problems.push(
        `${file}: ${n} lines > ${MAX_FILE_LINES}; split it by job (or allow-list a declarative table)`,
      );
    }
    if (n <= MAX_FILE_LINES && allowed.has(file)) {
      problems.push(`${file}: ${n} lines, within the limit: delete its 'lines' entry from ${ALLOW_FILE}`);
    }
  }
}

interface BiomeConfig {
  overrides?: Array<{ includes?: string[]; linter?: { rules?: { complexity?: Record<string, unknown> } } }>;
  linter?: { rules?: Record<string, unknown> };
  [key: string]: unknown;
}

/** biome.json must enforce the rule on src/** and switch it off for exactly the allow-listed files. */
function checkBiomeConfig(config: BiomeConfig, allowed: Set<string>, problems: string[]): void {
  const overrides = config.overrides ?? [];
  const ruleOf = (o: (typeof overrides)[number]) => o.linter?.rules?.complexity?.[RULE];
  const on = overrides.find((o) => o.includes?.includes('src/**') && typeof ruleOf(o) === 'object');
  const options = JSON.stringify(ruleOf(on ?? {}));
  if (options !== JSON.stringify({ level: 'error', options: { maxLines: MAX_FUNCTION_BODY_LINES } })) {
    problems.push(
      `biome.json: needs an override for "src/**" with ${RULE} { level: error, maxLines: ${MAX_FUNCTION_BODY_LINES} }`,
    );
  }
  const off = new Set(overrides.filter((o) => ruleOf(o) === 'off').flatMap((o) => o.includes ?? []));
  for (const f of off)
    if (!allowed.has(f)) problems.push(`biome.json: ${RULE} is off for ${f}, not in ${ALLOW_FILE}`);
  for (const f of allowed)
    if (!off.has(f)) problems.push(`biome.json: ${RULE} must be "off" for ${f} (${ALLOW_FILE})`);
}

interface Diagnostic {
  category: string;
  message: string;
  location: { path: string; start: { line: number } };
}

/** Runs biome's rule on every src file, ignoring the allow-list overrides, and returns its diagnostics. */
function longFunctions(config: BiomeConfig, files: string[]): Diagnostic[] {
  const dir = mkdtempSync(join(tmpdir(), 'size-check-'));
  try {
    const { overrides: _overrides, $schema: _schema, ...rest } = config;
    const rules = {
      ...rest.linter?.rules,
      complexity: { [RULE]: { level: 'error', options: { maxLines: MAX_FUNCTION_BODY_LINES } } },
    };
    writeFileSync(join(dir, 'biome.json'), JSON.stringify({ ...rest, linter: { ...rest.linter, rules } }));
    const args = ['lint', `--config-path=${dir}`, `--only=complexity/${RULE}`, '--reporter=json'];
    const out = spawnSync('node_modules/.bin/biome', [...args, '--max-diagnostics=none', ...files], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const report = JSON.parse(out.stdout) as { diagnostics?: Diagnostic[] };
    if (report.diagnostics === undefined) throw new Error(`biome lint gave no report: ${out.stderr}`);
    return report.diagnostics.filter((d) => d.category === `lint/complexity/${RULE}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function checkFunctions(diagnostics: Diagnostic[], allowed: Set<string>, problems: string[]): void {
  const offending = new Set(diagnostics.map((d) => d.location.path));
  for (const d of diagnostics) {
    if (allowed.has(d.location.path)) continue;
    problems.push(`${d.location.path}:${d.location.start.line}: ${d.message} (biome counts the body lines)`);
  }
  for (const f of allowed) {
    if (!offending.has(f)) problems.push(`${f}: no function over the limit: delete its 'functions' entry`);
  }
}

function main(): void {
  const problems: string[] = [];
  const entries = parseAllowList(readFileSync(ALLOW_FILE, 'utf8'), problems);
  const allowed = (kind: Kind) => new Set(entries.filter((e) => e.kind === kind).map((e) => e.path));
  const files = sourceFiles();
  checkFileLines(files, allowed('lines'), problems);
  const config = JSON.parse(readFileSync('biome.json', 'utf8')) as BiomeConfig;
  checkBiomeConfig(config, allowed('functions'), problems);
  checkFunctions(longFunctions(config, files), allowed('functions'), problems);
  for (const p of problems) console.error(`check-size: ERROR: ${p}`);
  if (problems.length > 0) process.exit(1);
  console.log(
    `check-size: ${files.length} files in src/ OK (≤ ${MAX_FILE_LINES} lines, functions ≤ 60 lines); ` +
      `${entries.length} allow-list entries, ${entries.filter((e) => e.reason.startsWith('TEMPORARY')).length} temporary`,
  );
}

main();
