#!/usr/bin/env bash
# Static checks of deploy/prometheus with promtool (installed by .ci/pre.d/prometheus.sh): the compose
# stack's config (which loads rules.yml), the rule file, and the rule unit tests (a firing and a quiet
# case for every alert).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool.sh: ERROR: promtool not found; run .ci/pre.d/prometheus.sh (Debian package prometheus)" >&2
  exit 1
fi
dir=deploy/prometheus
promtool check config "$dir/prometheus.yml" || { echo "promtool.sh: ERROR: promtool check config $dir/prometheus.yml failed" >&2; exit 1; }
promtool check rules "$dir/rules.yml" || { echo "promtool.sh: ERROR: promtool check rules $dir/rules.yml failed" >&2; exit 1; }
promtool test rules "$dir/rules.test.yml" || { echo "promtool.sh: ERROR: promtool test rules $dir/rules.test.yml failed" >&2; exit 1; }
echo "promtool.sh: config, rules and rule tests OK"
