#!/usr/bin/env bash
# Dependency rules of src/ (dependency-cruiser, .dependency-cruiser.cjs): no import cycles, and every
# import allowed by the table in docs/architecture.md ("Folders and allowed imports").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
npm run --silent check:deps || { echo "deps.sh: ERROR: dependency rules broken (see above; table in docs/architecture.md)" >&2; exit 1; }
echo "deps.sh: no cycles, every import allowed"
