#!/usr/bin/env bash
# Runs the flow test suite (test/flow) on every backend that `npm test` did not already use, so the
# flow engine is tested on wasm, cpu and tensorflow (native, provisioned by .ci/post-install.d/tfjs-node.sh).
# Under CI=true a missing tensorflow backend is a failure; elsewhere it is skipped with a note.
#   bash .ci/checks.d/flow-backends.sh [backend ...]   (default: wasm tensorflow cpu minus auto's pick)
# Time: tensorflow took 26 min at load 10-16 with one worker (~10 min expected idle); cpu is the long one,
# ~25-30 min expected on an idle 2-core machine (its toy trainings cost 5-13x wasm's CPU; at load 15 the
# RealNVP toy file alone took 36 min). FLOW_BACKENDS=tensorflow skips cpu if the CI budget needs it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# The backend `auto` picks here, i.e. the one plain `npm test` ran on.
auto="$(npx tsx --input-type=module -e "import { initBackend } from './src/flow/backend.ts'; console.log((await initBackend('auto')).name);" 2>/dev/null | tail -n 1)"
case "$auto" in wasm | cpu | tensorflow) ;; *) echo "flow-backends.sh: ERROR: cannot tell which backend auto picks (got '$auto')" >&2 && exit 1 ;; esac

# FLOW_BACKENDS (space-separated) narrows the default list, e.g. FLOW_BACKENDS=tensorflow to skip cpu.
if [ $# -gt 0 ]; then backends=("$@"); else read -r -a backends <<<"${FLOW_BACKENDS:-wasm tensorflow cpu}"; fi
tf_ok="$(npx tsx --input-type=module -e "import { isBackendAvailable } from './src/flow/backend.ts'; console.log(await isBackendAvailable('tensorflow'));" 2>/dev/null | tail -n 1)"
if [ "$tf_ok" != true ] && [ "${CI:-}" = true ] && [[ " ${backends[*]} " == *" tensorflow "* ]]; then
  echo "flow-backends.sh: ERROR: the tensorflow backend does not load; run npm run setup:tfjs-node (see docs/backends.md)" >&2
  exit 1
fi

for b in "${backends[@]}"; do
  if [ $# -eq 0 ] && [ "$b" = "$auto" ]; then
    echo "flow-backends.sh: $b: covered by npm test (auto picks it)"
    continue
  fi
  if [ "$b" = tensorflow ] && [ "$tf_ok" != true ]; then
    echo "flow-backends.sh: tensorflow: skipped, tfjs-node is not provisioned (npm run setup:tfjs-node)"
    continue
  fi
  echo "== flow tests on $b"
  started=$SECONDS
  FLOWSENTINEL_BACKEND="$b" npx vitest run test/flow ||
    { echo "flow-backends.sh: ERROR: the flow tests fail on the $b backend" >&2; exit 1; }
  echo "flow-backends.sh: $b passed in $((SECONDS - started)) s"
done
