#!/usr/bin/env bash
# Size limits of src/ (issue 12, DEVELOPERS.md): no file over 350 lines, no function over 60 lines, except
# the files in .ci/size-allow.txt (declarative tables, and the TEMPORARY offenders of issue 12). Function
# length is biome's complexity/noExcessiveLinesPerFunction, configured for src/ in biome.json; see
# scripts/check-size.ts. Also `npm run check:size`. Takes a few seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

npx tsx scripts/check-size.ts || { echo "size.sh: ERROR: src/ breaks the size limits (see above)" >&2; exit 1; }
