#!/usr/bin/env bash
# The published package works outside the repository (issue 17). `npm pack` (prepack rebuilds dist/), then
# in a fresh temporary project:
#   - install the tarball (plus typescript and @types/node) from the local tarball and npm's cache
#     (--prefer-offline: the registry is asked only for what the cache lacks);
#   - `npx flowsentinel --version` prints the package version;
#   - `npx flowsentinel demo --events 3000` runs and prints its summary;
#   - `npx flowsentinel init-config > flowsentinel.yaml` writes the shipped example, which validate-config accepts;
#   - an ESM TypeScript file importing `flowsentinel` and `flowsentinel/testing` is type-checked with tsc
#     (module nodenext, so only the `exports` map resolves them), compiled and run with node.
# Also checks the tarball holds only what the package needs (dist/, config/, package.json, README.md).
# Too slow for `npm test` (build + install + demo ≈ 1-2 min on 2 cores), so it is a CI check. Run it
# locally with `bash .ci/checks.d/package.sh`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo="$PWD"
t0=$(date +%s)
say() { echo "package.sh: $* (+$(($(date +%s) - t0)) s)"; }
fail() {
  echo "package.sh: FAILED: $*" >&2
  exit 1
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/flowsentinel-package.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
dev_version() { node -p "require('$repo/package.json').devDependencies['$1']"; }
version="$(node -p "require('$repo/package.json').version")"

# ---- pack ----
npm pack --pack-destination "$tmp" --silent >"$tmp/pack.out"
tarball="$tmp/$(tail -n 1 "$tmp/pack.out")"
[ -f "$tarball" ] || fail "npm pack wrote no tarball (output: $(cat "$tmp/pack.out"))"
tar -tzf "$tarball" >"$tmp/files.txt"
say "packed $(basename "$tarball"): $(wc -l <"$tmp/files.txt") files, $(du -k "$tarball" | cut -f1) kB"
unexpected="$(grep -Ev '^package/(dist/.+|config/[^/]+\.yaml|package\.json|README\.md)$' "$tmp/files.txt" || true)"
[ -z "$unexpected" ] || fail "the tarball holds files the package does not need:
$unexpected"
for needed in package/dist/index.js package/dist/index.d.ts package/dist/testing/index.js \
  package/dist/testing/index.d.ts package/dist/cli/main.js package/config/demo.yaml \
  package/config/flowsentinel.example.yaml; do
  grep -qx "$needed" "$tmp/files.txt" || fail "the tarball lacks $needed"
done
if grep -q '\.test\.' "$tmp/files.txt"; then fail "the tarball holds test files"; fi

# ---- install into a fresh project ----
app="$tmp/app"
mkdir -p "$app/src"
cat >"$app/package.json" <<'JSON'
{ "name": "flowsentinel-consumer", "private": true, "type": "module" }
JSON
(cd "$app" && npm install --prefer-offline --no-audit --no-fund --loglevel=error \
  "$tarball" "typescript@$(dev_version typescript)" "@types/node@$(dev_version @types/node)") ||
  fail "npm install of the tarball into a fresh project"
say "installed into $app"

# ---- the binary ----
printed="$(cd "$app" && npx --no-install flowsentinel --version)"
[ "$printed" = "$version" ] || fail "npx flowsentinel --version printed '$printed', expected '$version'"
say "npx flowsentinel --version: $printed"
(cd "$app" && npx --no-install flowsentinel demo --events 3000 --metrics-port 0 --report "$tmp/report.html") \
  >"$tmp/demo.out" 2>"$tmp/demo.err" || fail "npx flowsentinel demo exited $?: $(tail -n 20 "$tmp/demo.err")"
grep -q '^flowsentinel demo summary$' "$tmp/demo.out" || fail "no demo summary on stdout: $(cat "$tmp/demo.out")"
grep -Eq '^  events +3000 ' "$tmp/demo.out" || fail "the demo did not process 3000 events: $(cat "$tmp/demo.out")"
[ -s "$tmp/report.html" ] || fail "the demo wrote no report"
say "npx flowsentinel demo --events 3000: summary printed, report written"
(cd "$app" && npx --no-install flowsentinel init-config >flowsentinel.yaml) || fail "npx flowsentinel init-config"
validated="$(cd "$app" && npx --no-install flowsentinel validate-config -c flowsentinel.yaml)" ||
  fail "npx flowsentinel validate-config rejected the example init-config wrote"
[[ "$validated" == "OK flowsentinel.yaml: "* ]] || fail "unexpected validate-config output: $validated"
say "npx flowsentinel init-config > flowsentinel.yaml; validate-config: $validated"

# ---- import from an ESM TypeScript file ----
cat >"$app/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "skipLibCheck": true,
    "types": ["node"],
    "outDir": "out"
  },
  "include": ["src"]
}
JSON
cat >"$app/src/consumer.ts" <<'TS'
import { fileURLToPath } from 'node:url';
import { type AppConfig, FlowsentinelError, loadConfig, MemorySink, type ScoredEvent } from 'flowsentinel';
import { recordOf, type SourceRecord } from 'flowsentinel/testing';

const demoConfig = fileURLToPath(new URL('./config/demo.yaml', import.meta.resolve('flowsentinel/package.json')));
const config: AppConfig = loadConfig({ file: demoConfig, env: {} });
const sink = new MemorySink<ScoredEvent>();
await sink.write([]);
const fields: number = config.features.fields.length;
const records: SourceRecord[] = recordOf([{ key: 'host-7', value: { cpu: 0.9 } }, { value: { cpu: 0.1 } }]);
const offsets = records.map((r) => r.offset).join(',');
console.log(`fields=${fields} items=${sink.items.length} error=${new FlowsentinelError('x').name} offsets=${offsets}`);
TS
(cd "$app" && npx --no-install tsc -p .) || fail "tsc type-check of an ESM TypeScript file importing flowsentinel"
# Third-party declarations (tfjs, sketches-js) have errors of their own, so users run with skipLibCheck;
# flowsentinel's declarations must still be clean without it (e.g. no types from devDependencies).
(cd "$app" && npx --no-install tsc -p . --noEmit --skipLibCheck false >"$tmp/libcheck.out") || true
if grep -E '^node_modules/flowsentinel/' "$tmp/libcheck.out"; then fail "flowsentinel's own .d.ts files do not type-check"; fi
ran="$(cd "$app" && node out/consumer.js)" || fail "the compiled consumer did not run"
[[ "$ran" == fields=*offsets=0,1 ]] || fail "unexpected consumer output: $ran"
say "tsc (NodeNext, strict; flowsentinel's .d.ts also without skipLibCheck) and node: $ran"
say "OK"
